import { endianness } from 'node:os';

/**
 * Linux evdev records (`struct input_event`, linux/input.h) as read from /dev/input/event*:
 * a timeval (two longs), then type u16, code u16, value s32 — 24 bytes where a long is 8
 * bytes (x86-64, arm64), 16 bytes on 32-bit systems (armhf). Native byte order.
 */

export const EV_SYN = 0;
export const EV_KEY = 1;
export const EV_MSC = 4;

/** EV_KEY values */
export const KEY_RELEASE = 0;
export const KEY_PRESS = 1;
export const KEY_REPEAT = 2;

export interface InputEvent {
  seconds: number;
  microseconds: number;
  type: number;
  code: number;
  value: number;
}

export type RecordSize = 16 | 24;

/** The record size of this machine's kernel ABI. */
export const NATIVE_RECORD_SIZE: RecordSize = /64/.test(process.arch) ? 24 : 16;

/** Reads whole records from `data`; a partial record at the end is returned as `rest`. */
export function parseInputEvents(
  data: Buffer,
  recordSize: RecordSize = NATIVE_RECORD_SIZE,
  byteOrder: 'LE' | 'BE' = endianness(),
): { events: InputEvent[]; rest: Buffer } {
  const events: InputEvent[] = [];
  const le = byteOrder === 'LE';
  const whole = data.length - (data.length % recordSize);
  for (let at = 0; at < whole; at += recordSize) {
    let seconds: number;
    let microseconds: number;
    if (recordSize === 24) {
      seconds = Number(le ? data.readBigInt64LE(at) : data.readBigInt64BE(at));
      microseconds = Number(le ? data.readBigInt64LE(at + 8) : data.readBigInt64BE(at + 8));
    } else {
      seconds = le ? data.readUInt32LE(at) : data.readUInt32BE(at);
      microseconds = le ? data.readUInt32LE(at + 4) : data.readUInt32BE(at + 4);
    }
    const o = at + recordSize - 8;
    events.push({
      seconds,
      microseconds,
      type: le ? data.readUInt16LE(o) : data.readUInt16BE(o),
      code: le ? data.readUInt16LE(o + 2) : data.readUInt16BE(o + 2),
      value: le ? data.readInt32LE(o + 4) : data.readInt32BE(o + 4),
    });
  }
  return { events, rest: whole === data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(whole)) };
}

/** Writes records the way the kernel does (tests feed these to a pad through a FIFO). */
export function encodeInputEvents(
  events: (Pick<InputEvent, 'type' | 'code' | 'value'> & Partial<InputEvent>)[],
  recordSize: RecordSize = NATIVE_RECORD_SIZE,
  byteOrder: 'LE' | 'BE' = endianness(),
): Buffer {
  const out = Buffer.alloc(events.length * recordSize);
  const le = byteOrder === 'LE';
  events.forEach((e, i) => {
    const at = i * recordSize;
    const seconds = e.seconds ?? 0;
    const micro = e.microseconds ?? 0;
    if (recordSize === 24) {
      if (le) { out.writeBigInt64LE(BigInt(seconds), at); out.writeBigInt64LE(BigInt(micro), at + 8); }
      else { out.writeBigInt64BE(BigInt(seconds), at); out.writeBigInt64BE(BigInt(micro), at + 8); }
    } else if (le) { out.writeUInt32LE(seconds >>> 0, at); out.writeUInt32LE(micro >>> 0, at + 4); }
    else { out.writeUInt32BE(seconds >>> 0, at); out.writeUInt32BE(micro >>> 0, at + 4); }
    const o = at + recordSize - 8;
    if (le) { out.writeUInt16LE(e.type, o); out.writeUInt16LE(e.code, o + 2); out.writeInt32LE(e.value, o + 4); }
    else { out.writeUInt16BE(e.type, o); out.writeUInt16BE(e.code, o + 2); out.writeInt32BE(e.value, o + 4); }
  });
  return out;
}

/** What a keyboard sends for one key stroke: scan code (MSC_SCAN), key, report end. */
export function keyStroke(code: number, value: number, when = new Date()): InputEvent[] {
  const seconds = Math.floor(when.getTime() / 1000);
  const microseconds = (when.getTime() % 1000) * 1000;
  return [
    { type: EV_MSC, code: 4 /* MSC_SCAN */, value: 0x70000 + code, seconds, microseconds },
    { type: EV_KEY, code, value, seconds, microseconds },
    { type: EV_SYN, code: 0 /* SYN_REPORT */, value: 0, seconds, microseconds },
  ];
}

/**
 * Key names to codes, from linux/input-event-codes.h: the keys pads send (function keys,
 * keypad, digits, letters, arrows, Enter/Space, media keys, BTN_0..BTN_9 of button boxes).
 * `evtest /dev/input/eventN` shows the name of every key a pad sends.
 */
export const KEY_CODES: Readonly<Record<string, number>> = Object.freeze({
  KEY_ESC: 1,
  KEY_1: 2, KEY_2: 3, KEY_3: 4, KEY_4: 5, KEY_5: 6, KEY_6: 7, KEY_7: 8, KEY_8: 9, KEY_9: 10, KEY_0: 11,
  KEY_MINUS: 12, KEY_EQUAL: 13, KEY_BACKSPACE: 14, KEY_TAB: 15,
  KEY_Q: 16, KEY_W: 17, KEY_E: 18, KEY_R: 19, KEY_T: 20, KEY_Y: 21, KEY_U: 22, KEY_I: 23, KEY_O: 24, KEY_P: 25,
  KEY_LEFTBRACE: 26, KEY_RIGHTBRACE: 27, KEY_ENTER: 28, KEY_LEFTCTRL: 29,
  KEY_A: 30, KEY_S: 31, KEY_D: 32, KEY_F: 33, KEY_G: 34, KEY_H: 35, KEY_J: 36, KEY_K: 37, KEY_L: 38,
  KEY_SEMICOLON: 39, KEY_APOSTROPHE: 40, KEY_GRAVE: 41, KEY_LEFTSHIFT: 42, KEY_BACKSLASH: 43,
  KEY_Z: 44, KEY_X: 45, KEY_C: 46, KEY_V: 47, KEY_B: 48, KEY_N: 49, KEY_M: 50,
  KEY_COMMA: 51, KEY_DOT: 52, KEY_SLASH: 53, KEY_RIGHTSHIFT: 54, KEY_KPASTERISK: 55, KEY_LEFTALT: 56,
  KEY_SPACE: 57, KEY_CAPSLOCK: 58,
  KEY_F1: 59, KEY_F2: 60, KEY_F3: 61, KEY_F4: 62, KEY_F5: 63, KEY_F6: 64, KEY_F7: 65, KEY_F8: 66, KEY_F9: 67, KEY_F10: 68,
  KEY_NUMLOCK: 69, KEY_SCROLLLOCK: 70,
  KEY_KP7: 71, KEY_KP8: 72, KEY_KP9: 73, KEY_KPMINUS: 74, KEY_KP4: 75, KEY_KP5: 76, KEY_KP6: 77, KEY_KPPLUS: 78,
  KEY_KP1: 79, KEY_KP2: 80, KEY_KP3: 81, KEY_KP0: 82, KEY_KPDOT: 83,
  KEY_F11: 87, KEY_F12: 88,
  KEY_KPENTER: 96, KEY_RIGHTCTRL: 97, KEY_KPSLASH: 98, KEY_SYSRQ: 99, KEY_RIGHTALT: 100,
  KEY_HOME: 102, KEY_UP: 103, KEY_PAGEUP: 104, KEY_LEFT: 105, KEY_RIGHT: 106, KEY_END: 107, KEY_DOWN: 108,
  KEY_PAGEDOWN: 109, KEY_INSERT: 110, KEY_DELETE: 111,
  KEY_MUTE: 113, KEY_VOLUMEDOWN: 114, KEY_VOLUMEUP: 115, KEY_POWER: 116, KEY_KPEQUAL: 117, KEY_PAUSE: 119,
  KEY_KPCOMMA: 121, KEY_LEFTMETA: 125, KEY_RIGHTMETA: 126, KEY_COMPOSE: 127,
  KEY_NEXTSONG: 163, KEY_PLAYPAUSE: 164, KEY_PREVIOUSSONG: 165, KEY_STOPCD: 166,
  KEY_F13: 183, KEY_F14: 184, KEY_F15: 185, KEY_F16: 186, KEY_F17: 187, KEY_F18: 188,
  KEY_F19: 189, KEY_F20: 190, KEY_F21: 191, KEY_F22: 192, KEY_F23: 193, KEY_F24: 194,
  BTN_0: 256, BTN_1: 257, BTN_2: 258, BTN_3: 259, BTN_4: 260, BTN_5: 261, BTN_6: 262, BTN_7: 263, BTN_8: 264, BTN_9: 265,
  BTN_LEFT: 272, BTN_RIGHT: 273, BTN_MIDDLE: 274,
  BTN_TRIGGER: 288, BTN_THUMB: 289, BTN_THUMB2: 290, BTN_TOP: 291,
  KEY_OK: 352, KEY_SELECT: 353,
});

/**
 * The code of a key written in config: `KEY_F1`, `F1`, `kp1` (the KEY_ prefix and case are
 * optional), `BTN_0`, or a number (decimal, or hex `0x3b`) for a key not in the table.
 */
export function keyCode(name: string): number | undefined {
  const text = name.trim();
  if (/^[0-9]+$/.test(text)) return checkCode(Number(text));
  if (/^0x[0-9a-f]+$/i.test(text)) return checkCode(Number.parseInt(text.slice(2), 16));
  const upper = text.toUpperCase();
  return KEY_CODES[upper] ?? KEY_CODES[`KEY_${upper}`];
}

const checkCode = (code: number) => (code > 0 && code <= 0x2ff ? code : undefined);

/** The table's name of a code (for logs), or the number. */
export function keyName(code: number): string {
  for (const [name, value] of Object.entries(KEY_CODES)) if (value === code) return name;
  return String(code);
}
