import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateOf, ticketOf } from '../src/agent/agent-printer.ts';
import { AgentConfigError, loadAgentConfig, parseAgentConfig } from '../src/agent/config.ts';
import { createLogger } from '../src/agent/log.ts';
import type { AgentDeviceApi } from '../src/agent/peripheral.ts';
import { createPeripheral, lookupPeripheral, PeripheralConfigError, registerPeripheral } from '../src/agent/peripherals.ts';
import { hashCode, StateStore } from '../src/agent/state.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'qms-agent-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const root = path.resolve(import.meta.dirname, '..', '..');
const valid = { server: 'http://192.168.1.10:8080/', stateFile: 'state.json', devices: [{ name: 'kiosk-1', pairingCode: '123456', printer: { kind: 'device-file', path: '/dev/usb/lp0' } }] };

function problemsOf(value: unknown, options = {}): string[] {
  try {
    parseAgentConfig(value, options);
  } catch (error) {
    expect(error).toBeInstanceOf(AgentConfigError);
    return (error as AgentConfigError).problems;
  }
  throw new Error('the config was accepted');
}

describe('agent config', () => {
  it('accepts the example file shipped with the package', async () => {
    const config = await loadAgentConfig(path.join(root, 'hardware', 'site-agent.example.json'));
    expect(config.server).toBe('http://192.168.1.10:8080');
    expect(config.devices[0]!.printer).toEqual({ kind: 'device-file', path: '/dev/usb/lp0', widthDots: 576 });
  });

  it('resolves the state file next to the config and trims the server URL', async () => {
    const file = path.join(dir, 'agent.json');
    await writeFile(file, JSON.stringify(valid));
    const config = await loadAgentConfig(file);
    expect(config.stateFile).toBe(path.join(dir, 'state.json'));
    expect(config.server).toBe('http://192.168.1.10:8080');
  });

  it('names every problem by its place', () => {
    const top = problemsOf({ ...valid, server: 'ws://x', extra: 1 });
    expect(top).toHaveLength(2);
    expect(top).toEqual(expect.arrayContaining(['(top level): unknown field(s) "extra"', expect.stringMatching(/^server: /)]));
    expect(problemsOf({ ...valid, devices: [] })).toEqual([expect.stringMatching(/^devices: /)]);
    expect(problemsOf({ ...valid, devices: [{ name: 'a', printer: { kind: 'usb', path: '/dev/usb/lp0' } }] }))
      .toEqual(['devices[0].printer.kind: "usb" is not one of device-file, serial, tcp']);
    expect(problemsOf({ ...valid, devices: [{ name: 'a', printer: { kind: 'tcp' } }, { name: 'a', printer: { kind: 'serial', path: '/dev/ttyS0', baudRate: '9600' } }] }))
      .toEqual(['devices[0].printer: missing field(s) "host"', 'devices[1].name: "a" is used twice (it keys the state file)', 'devices[1].printer.baudRate: must be integer']);
    expect(problemsOf({ ...valid, devices: [{ name: 'a', printer: { kind: 'device-file', path: '/dev/usb/lp0', widthDots: 500 } }] }))
      .toEqual([expect.stringMatching(/^devices\[0\]\.printer\.widthDots: /)]);
  });

  it('refuses unknown peripheral types when asked to (the CLI does)', () => {
    const config = { ...valid, devices: [{ name: 'a', peripherals: [{ type: 'no-such-thing' }] }] };
    expect(parseAgentConfig(config).devices[0]!.peripherals).toEqual([{ type: 'no-such-thing' }]);
    expect(problemsOf(config, { requireKnownPeripherals: true })).toEqual([expect.stringMatching(/^devices\[0\]\.peripherals\[0\]\.type: unknown peripheral type "no-such-thing"/)]);
  });
});

describe('peripheral registry', () => {
  const api = {} as AgentDeviceApi;
  it('builds registered types and says which exist when one does not', () => {
    registerPeripheral('test-beeper', (config) => ({ name: `beeper ${String(config.pin)}`, start: async () => {}, stop: async () => {} }));
    expect(lookupPeripheral('test-beeper')).toBeTypeOf('function');
    expect(createPeripheral({ type: 'test-beeper', pin: 4 }, api).name).toBe('beeper 4');
    expect(() => registerPeripheral('test-beeper', () => ({ name: '', start: async () => {}, stop: async () => {} }))).toThrow(/already registered/);
    expect(() => createPeripheral({ type: 'nope' }, api, 'devices[0].peripherals[1]')).toThrow(/devices\[0\]\.peripherals\[1\]: unknown peripheral type "nope" \(known types: .*test-beeper/);
    expect(() => createPeripheral({}, api)).toThrow(PeripheralConfigError);
  });
  it('turns a factory rejecting its options into a config error naming the entry', () => {
    registerPeripheral('test-picky', () => {
      throw new Error('"pin" is required');
    });
    expect(() => createPeripheral({ type: 'test-picky' }, api, 'devices[2].peripherals[0]')).toThrow('devices[2].peripherals[0] (test-picky): "pin" is required');
  });
});

describe('state file', () => {
  it('is written 0600 (whatever the umask), read back, and a loose mode is tightened', async () => {
    const file = path.join(dir, 'sub', 'state.json');
    const store = new StateStore(file);
    await Promise.all([
      store.set('a', { deviceId: 'd1', token: 'qd_a', server: 'http://s', pairedWith: hashCode('111111'), pairedAt: 'now' }),
      store.set('b', { deviceId: 'd2', token: 'qd_b', server: 'http://s', pairedAt: 'now' }),
    ]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const again = new StateStore(file);
    await again.load();
    expect(again.get('a')?.token).toBe('qd_a');
    expect(again.get('b')?.deviceId).toBe('d2');
    await chmod(file, 0o644);
    const warnings: string[] = [];
    await new StateStore(file, { warn: (_o, msg) => warnings.push(msg ?? '') }).load();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(warnings).toEqual(['state file readable by others: set to 0600']);
    expect(JSON.parse(await readFile(file, 'utf8')).devices.a.pairedWith).toBe(hashCode('111111'));
  });
});

describe('agent printer helpers', () => {
  it('maps printer status to the state reported to the server', () => {
    expect(stateOf({ online: false, paperOut: true })).toEqual({ state: 'paper_out', message: 'out of paper' });
    expect(stateOf({ online: false, paperOut: false, coverOpen: true })).toEqual({ state: 'error', message: 'cover open' });
    expect(stateOf({ online: false, paperOut: false, error: 'unplugged' })).toEqual({ state: 'offline', message: 'unplugged' });
    expect(stateOf({ online: true, paperOut: false, paperLow: true })).toEqual({ state: 'paper_low', message: 'paper running low' });
    expect(stateOf({ online: true, paperOut: false })).toEqual({ state: 'ready' });
  });
  it('reads a print job from the network, refusing what is not a ticket', () => {
    const job = { jobId: 'j', ticket: { centreName: 'C', serviceName: { vi: 'v', en: 'e' }, code: 'A001', peopleAhead: 2, estimatedWaitSeconds: null, issuedAt: '2026-11-24T02:00:00Z', timeZone: 'Asia/Ho_Chi_Minh', url: 'http://x/t/1' } };
    expect(ticketOf(job)).toMatchObject({ code: 'A001', issuedAt: new Date('2026-11-24T02:00:00Z'), peopleAhead: 2 });
    expect(ticketOf({ ...job, ticket: { ...job.ticket, booking: { kind: 'slot', slotAt: '2026-11-24T02:00:00Z' } } })?.booking)
      .toEqual({ kind: 'slot', slotAt: new Date('2026-11-24T02:00:00Z') });
    expect(ticketOf({ ...job, ticket: { ...job.ticket, booking: { kind: 'walk-in', slotAt: 'soon' } } })?.booking).toBeUndefined();
    expect(ticketOf({ jobId: 'j' })).toBeNull();
    expect(ticketOf({ ticket: { ...job.ticket, issuedAt: 'yesterday' } })).toBeNull();
    expect(ticketOf(null)).toBeNull();
  });
});

describe('JSON-line log', () => {
  it('writes one JSON object per line, errors readable, below the level dropped', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', write: (l) => lines.push(l) }).child({ device: 'kiosk-1' });
    log.debug({ x: 1 }, 'hidden');
    log.warn({ err: Object.assign(new Error('no such file'), { code: 'ENOENT' }) }, 'printer state');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', device: 'kiosk-1', msg: 'printer state', err: { message: 'no such file', code: 'ENOENT' } });
  });
});

describe('CLI', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'hardware', 'src', 'agent', 'cli.ts'), ...args], { encoding: 'utf8', cwd: root });
  it('--check says valid for the example, exits 2 with the problems for a bad file, and knows led-modbus', async () => {
    const ok = cli('--config', path.join(root, 'hardware', 'site-agent.example.json'), '--check');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/valid \(1 device\(s\)\)/);
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ ...valid, devices: [{ name: 'a', peripherals: [{ type: 'led-modbus-typo' }] }] }));
    const refused = cli('--config', bad, '--check');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/devices\[0\]\.peripherals\[0\]\.type: unknown peripheral type "led-modbus-typo" \(known: [^)]*\bled-modbus\b/);
    expect(cli().status).toBe(2);
  });
});
