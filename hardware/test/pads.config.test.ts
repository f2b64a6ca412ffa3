import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  checkActionsFor, PadConfigError, parseAction,
} from '../src/pads/pad.actions.ts';
import { parseHidPadConfig, parseKeyboardPadConfig } from '../src/pads/pad.config.ts';
import {
  EV_KEY, encodeInputEvents, KEY_CODES, keyCode, keyStroke, parseInputEvents,
} from '../src/pads/input-event.ts';
import { PressGate, Backoff } from '../src/pads/pad.timing.ts';
import { createPeripheral } from '../src/agent/peripherals.ts';
import type { AgentDeviceApi } from '../src/agent/peripheral.ts';
import '../src/pads/register.ts';

const counterHid = {
  type: 'hid-pad', vendorId: '0x1209', productId: 'a0c1',
  buttons: [{ byte: 0, mask: 0x01, action: 'call-next' }, { byte: 0, mask: 0x02, action: 'finish' }],
};

describe('pad config', () => {
  it('reads a HID pad: hex ids as lsusb prints them, defaults, button byte lists', () => {
    const options = parseHidPadConfig({
      ...counterHid,
      buttons: [...counterHid.buttons, { reportId: 1, byte: [2, 3, 4, 5, 6, 7], value: 0x3a, action: 'recall' }],
    });
    expect(options.vendorId).toBe(0x1209);
    expect(options.productId).toBe(0xa0c1);
    expect(options.name).toBe('hid-pad 1209:a0c1');
    expect(options.debounceMs).toBe(300);
    expect(options.buttons.map((b) => b.action)).toEqual([
      { kind: 'counter', name: 'call-next' }, { kind: 'counter', name: 'finish' }, { kind: 'counter', name: 'recall' },
    ]);
    expect(options.buttons[0]!.bytes).toEqual([0]);
    expect(options.buttons[2]).toMatchObject({ reportId: 1, bytes: [2, 3, 4, 5, 6, 7], value: 0x3a });
  });

  it('names the wrong fields of a HID pad', () => {
    const message = (config: Record<string, unknown>) => {
      try {
        parseHidPadConfig(config);
      } catch (e) {
        expect(e).toBeInstanceOf(PadConfigError);
        return (e as Error).message;
      }
      return 'accepted';
    };
    const ids = message({ type: 'hid-pad', vendorId: 'zz', productId: 70000, colour: 'red', buttons: counterHid.buttons });
    expect(ids).toMatch(/unknown option "colour"/);
    expect(ids).toMatch(/\/vendorId: must be a number or a hex id/);
    expect(ids).toMatch(/\/productId: must be a number or a hex id/);
    const buttons = message({ ...counterHid, buttons: [{ byte: 99, mask: 1, action: 'jump' }] });
    expect(buttons).toMatch(/\/buttons\/0\/byte: must be a byte index/);
    expect(buttons).toMatch(/\/buttons\/0\/action: must be an action: call-next, recall, start, finish, no-show, pause, resume, score:N, criticism/);
  });

  it('refuses a button that could never tell pressed from idle', () => {
    expect(() => parseHidPadConfig({ ...counterHid, buttons: [{ byte: 1, action: 'recall' }] })).toThrow(/give "mask".*or "value"/);
    expect(() => parseHidPadConfig({ ...counterHid, buttons: [{ byte: 1, value: 0, action: 'recall' }] })).toThrow(/matches an idle report/);
    expect(() => parseHidPadConfig({ ...counterHid, buttons: [] })).toThrow(/\/buttons/);
    expect(() => parseHidPadConfig({ type: 'hid-pad', productId: 1, buttons: counterHid.buttons })).toThrow(/missing "vendorId"/);
  });

  it('reads a keyboard pad: key names with or without KEY_, codes, 16/24-byte records', () => {
    const options = parseKeyboardPadConfig({
      type: 'keyboard-pad', path: '/dev/input/by-id/usb-pad-event-kbd',
      keys: { KEY_KP1: 'score:1', kp2: 'score:2', F3: 'score:3', '0x3e': 'criticism' },
      recordSize: 16, lowRatingReason: 'thai_do',
    });
    expect([...options.keys.entries()]).toEqual([
      [79, { kind: 'rating', name: 'score', score: 1 }],
      [80, { kind: 'rating', name: 'score', score: 2 }],
      [61, { kind: 'rating', name: 'score', score: 3 }],
      [62, { kind: 'rating', name: 'criticism' }],
    ]);
    expect(options.recordSize).toBe(16);
    expect(options.lowRatingReason).toBe('thai_do');
  });

  it('names wrong keys and actions of a keyboard pad', () => {
    const base = { type: 'keyboard-pad', path: '/dev/input/event3' };
    expect(() => parseKeyboardPadConfig({ ...base, keys: { KEY_NOPE: 'score:1' } })).toThrow(/\/keys\/KEY_NOPE: unknown key/);
    expect(() => parseKeyboardPadConfig({ ...base, keys: { F1: 'score:11' } })).toThrow(/\/keys\/F1: must be an action/);
    expect(() => parseKeyboardPadConfig({ ...base, keys: {} })).toThrow(/at least one key/);
    expect(() => parseKeyboardPadConfig({ ...base, keys: { F1: 'call-next', KEY_F1: 'recall' } })).toThrow(/mapped twice/);
    expect(() => parseKeyboardPadConfig({ ...base, keys: { F1: 'recall' }, recordSize: 32 })).toThrow(/\/recordSize: must be 16 or 24/);
    expect(() => parseKeyboardPadConfig({ type: 'keyboard-pad', keys: { F1: 'recall' } })).toThrow(/missing "path"/);
  });

  it('keeps counter actions on counter devices and rating actions on rating devices', () => {
    const next = [{ where: '/keys/F1', action: parseAction('call-next') }];
    const score = [{ where: '/keys/KP1', action: parseAction('score:1') }];
    expect(() => checkActionsFor('counter', next)).not.toThrow();
    expect(() => checkActionsFor('rating', score)).not.toThrow();
    expect(() => checkActionsFor('rating', next)).toThrow(/\/keys\/F1: "call-next" is a counter action, but this pad belongs to a rating device/);
    expect(() => checkActionsFor('counter', score)).toThrow(/"score:1" is a rating action/);
    expect(() => checkActionsFor('kiosk', score)).toThrow(/not a kiosk device/);
    expect(() => parseAction('score:0')).toThrow(/unknown action "score:0"/);
  });
});

describe('pads in the agent registry', () => {
  const deviceApi = (kind: 'counter' | 'rating'): AgentDeviceApi => ({
    device: { id: 'd1', kind, siteId: 's1', counterId: 'c1' },
    request: async () => ({ status: 503, body: null }),
    on: () => () => {},
    log: { info() {}, warn() {}, error() {} },
  });

  it('builds both types and reports a wrong entry with where it is in the agent config', () => {
    const hid = createPeripheral({ ...counterHid, name: 'desk 1' }, deviceApi('counter'), 'devices "quay-1" peripherals[0]');
    expect(hid.name).toBe('desk 1');
    const kbd = createPeripheral({ type: 'keyboard-pad', path: '/dev/input/event9', keys: { KP1: 'score:3' } }, deviceApi('rating'));
    expect(kbd.name).toBe('keyboard-pad /dev/input/event9');
    expect(() => createPeripheral({ type: 'keyboard-pad', path: '/dev/input/event9', keys: { KEY_NOPE: 'score:1' } }, deviceApi('rating'), 'devices "quay-1" peripherals[1]'))
      .toThrow(/^devices "quay-1" peripherals\[1\]: keyboard-pad: \/keys\/KEY_NOPE: unknown key/);
    expect(() => createPeripheral(counterHid, deviceApi('rating'), 'devices "danh-gia" peripherals[0]'))
      .toThrow(/^devices "danh-gia" peripherals\[0\]: \/buttons\/0: "call-next" is a counter action, but this pad belongs to a rating device/);
  });
});

describe('input_event records', () => {
  it('round-trips key strokes in 24- and 16-byte records, keeping a partial record for later', () => {
    const when = new Date('2026-11-24T08:00:01.250Z');
    for (const size of [24, 16] as const) {
      const bytes = encodeInputEvents([...keyStroke(KEY_CODES.KEY_F1!, 1, when), ...keyStroke(KEY_CODES.KEY_F1!, 0, when)], size);
      expect(bytes.length).toBe(6 * size);
      const first = parseInputEvents(bytes.subarray(0, 2 * size + 5), size);
      expect(first.events.map((e) => [e.type, e.code, e.value])).toEqual([[4, 4, 0x70000 + 59], [EV_KEY, 59, 1]]);
      expect(first.events[1]).toMatchObject({ seconds: Math.floor(when.getTime() / 1000), microseconds: 250_000 });
      expect(first.rest.length).toBe(5);
      const second = parseInputEvents(Buffer.concat([first.rest, bytes.subarray(2 * size + 5)]), size);
      expect(second.events.map((e) => [e.type, e.code, e.value])).toEqual([[0, 0, 0], [4, 4, 0x70000 + 59], [EV_KEY, 59, 0], [0, 0, 0]]);
      expect(second.rest.length).toBe(0);
    }
  });

  it('lays a 64-bit record out as the kernel does: timeval 16, type, code, value', () => {
    const [record] = [encodeInputEvents([{ type: EV_KEY, code: 79, value: 2, seconds: 1, microseconds: 2 }], 24, 'LE')];
    expect([...record!]).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 79, 0, 2, 0, 0, 0]);
  });

  it('resolves key names, short names and numbers', () => {
    expect(keyCode('KEY_F1')).toBe(59);
    expect(keyCode('f12')).toBe(88);
    expect(keyCode('KP0')).toBe(82);
    expect(keyCode('BTN_0')).toBe(256);
    expect(keyCode('30')).toBe(30);
    expect(keyCode('0x1e')).toBe(30);
    expect(keyCode('0')).toBeUndefined();
    expect(keyCode('KEY_WHATEVER')).toBeUndefined();
  });

  const header = '/usr/include/linux/input-event-codes.h';
  it.skipIf(!existsSync(header))('has the codes of linux/input-event-codes.h', () => {
    const defined = new Map<string, number>();
    for (const m of readFileSync(header, 'utf8').matchAll(/^#define\s+((?:KEY|BTN)_[A-Z0-9_]+)\s+(0x[0-9a-fA-F]+|\d+)\b/gm)) {
      defined.set(m[1]!, Number(m[2]));
    }
    expect(defined.size).toBeGreaterThan(300);
    const wrong = Object.entries(KEY_CODES).filter(([name, code]) => defined.get(name) !== code);
    expect(wrong).toEqual([]);
  });
});

describe('debounce and backoff', () => {
  it('takes one press of a bouncing contact, and the next real press after the window', () => {
    let t = 1000;
    const gate = new PressGate(300, () => t);
    expect(gate.accept('button 0')).toBe(true);
    t += 8; expect(gate.accept('button 0')).toBe(false);
    t += 8; expect(gate.accept('button 0')).toBe(false);
    expect(gate.accept('button 1')).toBe(true); // another button is not a bounce
    t = 1000 + 299; expect(gate.accept('button 0')).toBe(false);
    t = 1000 + 300; expect(gate.accept('button 0')).toBe(true);
  });

  it('doubles the wait up to the maximum and starts again after a success', () => {
    const b = new Backoff(500, 3000);
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([500, 1000, 2000, 3000, 3000]);
    b.reset();
    expect(b.next()).toBe(500);
  });
});
