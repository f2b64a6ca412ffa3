import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { ACTION_NAMES, ACTION_PATTERN, PadConfigError, parseAction, type PadAction } from './pad.actions.ts';
import { keyCode, NATIVE_RECORD_SIZE, type RecordSize } from './input-event.ts';

// The two pad peripherals' config entries (`peripherals: [{ type: 'hid-pad', ... }]` in the
// agent's config), checked once when the agent builds them: a wrong entry is an error with
// the field's path, never a pad that silently does nothing.

const strict = { additionalProperties: false } as const;

const Action = Type.String({ pattern: ACTION_PATTERN, description: `one of ${ACTION_NAMES.join(', ')}` });
/** USB ids as numbers or as `lsusb` prints them ("0483", "0x0483") */
const UsbId = Type.Union([Type.Integer({ minimum: 0, maximum: 0xffff }), Type.String({ pattern: '^(0[xX])?[0-9a-fA-F]{1,4}$' })]);
const ByteIndex = Type.Integer({ minimum: 0, maximum: 63 });
const ReasonCode = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,40}$' });

/** Options both kinds share: what the buttons do beyond their action. */
const Common = {
  /** shown in the agent's logs */
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
  /** a second press of the same button within this time is a bounce, not a press (default 300) */
  debounceMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 5000 })),
  /** first and longest wait before opening a missing/unplugged pad again (defaults 500, 10000) */
  reconnectMinMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 60_000 })),
  reconnectMaxMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 600_000 })),
  /** counter pads: the reason stored with `pause` */
  pauseReason: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  /**
   * rating pads: the reason code (one of the site's rating reasons) sent with a score whose
   * level asks a reason ("Không hài lòng"); without it such a score is stored without a reason
   */
  lowRatingReason: Type.Optional(ReasonCode),
  /** rating pads: the comment sent with `criticism` */
  criticismComment: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
};

export const HidButtonConfig = Type.Object({
  action: Action,
  /** only reports starting with this id say anything about the button (numbered reports) */
  reportId: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
  /** index in the report as node-hid delivers it (with numbered reports, byte 0 is the id); a list: any of them */
  byte: Type.Union([ByteIndex, Type.Array(ByteIndex, { minItems: 1, maxItems: 64 })]),
  /** pressed when (report[byte] & mask) != 0, or == value when both are given */
  mask: Type.Optional(Type.Integer({ minimum: 1, maximum: 255 })),
  /** pressed when report[byte] == value (a key code in a keyboard-style report) */
  value: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
}, strict);

export const HidPadConfig = Type.Object({
  type: Type.Literal('hid-pad'),
  vendorId: UsbId,
  productId: UsbId,
  /** one particular device (`/dev/hidraw3`, or a path from `HID.devices()`) */
  path: Type.Optional(Type.String({ minLength: 1, maxLength: 400 })),
  /** one of several identical pads */
  serialNumber: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  /** the interface/usage of a composite device that carries the buttons */
  interface: Type.Optional(Type.Integer({ minimum: -1, maximum: 255 })),
  usagePage: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffff })),
  /** node-hid's Linux backend: hidraw (default) or libusb (needs Debian's libusb-1.0-0); process-wide */
  driver: Type.Optional(Type.Union([Type.Literal('hidraw'), Type.Literal('libusb')])),
  buttons: Type.Array(HidButtonConfig, { minItems: 1, maxItems: 64 }),
  ...Common,
}, strict);
export type HidPadConfig = Static<typeof HidPadConfig>;

export const KeyboardPadConfig = Type.Object({
  type: Type.Literal('keyboard-pad'),
  /** the pad's event device, best the stable `/dev/input/by-id/usb-...-event-kbd` link */
  path: Type.String({ minLength: 1, maxLength: 400 }),
  /** key name (`KEY_F1`, `F1`, `KP1`, `BTN_0`) or code → action */
  keys: Type.Record(Type.String({ minLength: 1, maxLength: 40 }), Action),
  /** bytes per input_event: 24 on 64-bit kernels (default here), 16 on 32-bit ones */
  recordSize: Type.Optional(Type.Union([Type.Literal(16), Type.Literal(24)])),
  ...Common,
}, strict);
export type KeyboardPadConfig = Static<typeof KeyboardPadConfig>;

/** What both readers and the dispatcher need, with defaults applied. */
export interface PadCommonOptions {
  name: string;
  debounceMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  pauseReason?: string;
  lowRatingReason?: string;
  criticismComment?: string;
}

export interface HidButton {
  action: PadAction;
  reportId?: number;
  bytes: number[];
  mask?: number;
  value?: number;
}

/** Which HID device a pad is: vendor and product id, narrowed by path, serial, interface or usage page. */
export interface HidTarget {
  vendorId: number;
  productId: number;
  path?: string;
  serialNumber?: string;
  interface?: number;
  usagePage?: number;
  driver?: 'hidraw' | 'libusb';
}

export interface HidPadOptions extends PadCommonOptions, HidTarget {
  buttons: HidButton[];
}

export interface KeyboardPadOptions extends PadCommonOptions {
  path: string;
  /** key code → action */
  keys: Map<number, PadAction>;
  recordSize: RecordSize;
}

const checkHid = Compile(HidPadConfig);
const checkKeyboard = Compile(KeyboardPadConfig);

const hex4 = (n: number) => n.toString(16).padStart(4, '0');
const usbId = (v: number | string) => (typeof v === 'number' ? v : Number.parseInt(v.replace(/^0x/i, ''), 16));

/** Hints for fields whose schema error alone would not tell what to write. */
function hint(path: string): string | undefined {
  if (/\/(vendorId|productId)$/.test(path)) return 'a number or a hex id as lsusb shows it, e.g. "0483"';
  if (/\/byte(\/\d+)?$/.test(path)) return 'a byte index 0-63 or a list of them';
  if (/\/action$/.test(path) || /^\/keys\//.test(path)) return `an action: ${ACTION_NAMES.join(', ')}`;
  if (/\/driver$/.test(path)) return '"hidraw" or "libusb"';
  if (/\/recordSize$/.test(path)) return '16 or 24';
  if (/\/lowRatingReason$/.test(path)) return 'a reason code of the site, e.g. "thai_do"';
  return undefined;
}

function describeErrors(errors: { keyword: string; instancePath: string; message: string; params: Record<string, unknown> }[]): string {
  const messages = new Map<string, string>();
  for (const e of errors) {
    if (e.keyword === 'boolean') continue; // the companion of additionalProperties
    const path = e.instancePath || '(entry)';
    if (e.keyword === 'additionalProperties') {
      const names = (e.params.additionalProperties as string[] | undefined) ?? [];
      messages.set(`${path} options`, `${path}: unknown option${names.length > 1 ? 's' : ''} ${names.map((n) => `"${n}"`).join(', ')}`);
    } else if (e.keyword === 'required') {
      const names = (e.params.requiredProperties as string[] | undefined) ?? [];
      messages.set(`${path} required`, `${path}: missing ${names.map((n) => `"${n}"`).join(', ')}`);
    } else {
      // one message per field; a hint says what a union (vendorId, byte...) accepts
      const h = hint(path);
      if (!messages.has(`${path} value`)) messages.set(`${path} value`, `${path}: ${h ? `must be ${h}` : e.message}`);
    }
  }
  return [...messages.values()].join('; ');
}

function common(config: { name?: string; debounceMs?: number; reconnectMinMs?: number; reconnectMaxMs?: number; pauseReason?: string; lowRatingReason?: string; criticismComment?: string }, fallbackName: string): PadCommonOptions {
  const reconnectMinMs = config.reconnectMinMs ?? 500;
  const reconnectMaxMs = config.reconnectMaxMs ?? Math.max(10_000, reconnectMinMs);
  if (reconnectMaxMs < reconnectMinMs) throw new PadConfigError('reconnectMaxMs must not be below reconnectMinMs');
  return {
    name: config.name ?? fallbackName,
    debounceMs: config.debounceMs ?? 300,
    reconnectMinMs,
    reconnectMaxMs,
    ...(config.pauseReason ? { pauseReason: config.pauseReason } : {}),
    ...(config.lowRatingReason ? { lowRatingReason: config.lowRatingReason } : {}),
    ...(config.criticismComment ? { criticismComment: config.criticismComment } : {}),
  };
}

/** Checks a `hid-pad` entry; throws PadConfigError naming every wrong field. */
export function parseHidPadConfig(input: Record<string, unknown>): HidPadOptions {
  if (!checkHid.Check(input)) throw new PadConfigError(`hid-pad: ${describeErrors(checkHid.Errors(input) as never)}`);
  const config = input as HidPadConfig;
  const vendorId = usbId(config.vendorId);
  const productId = usbId(config.productId);
  const buttons = config.buttons.map((b, i): HidButton => {
    if (b.mask === undefined && b.value === undefined) {
      throw new PadConfigError(`hid-pad: /buttons/${i}: give "mask" (a bit of the byte) or "value" (the byte's value while pressed)`);
    }
    if (b.mask === undefined && b.value === 0) {
      throw new PadConfigError(`hid-pad: /buttons/${i}: "value": 0 alone matches an idle report; use "mask" or a non-zero value`);
    }
    return {
      action: parseAction(b.action),
      bytes: Array.isArray(b.byte) ? b.byte : [b.byte],
      ...(b.reportId !== undefined ? { reportId: b.reportId } : {}),
      ...(b.mask !== undefined ? { mask: b.mask } : {}),
      ...(b.value !== undefined ? { value: b.value } : {}),
    };
  });
  return {
    ...common(config, `hid-pad ${hex4(vendorId)}:${hex4(productId)}`),
    vendorId,
    productId,
    ...(config.path ? { path: config.path } : {}),
    ...(config.serialNumber ? { serialNumber: config.serialNumber } : {}),
    ...(config.interface !== undefined ? { interface: config.interface } : {}),
    ...(config.usagePage !== undefined ? { usagePage: config.usagePage } : {}),
    ...(config.driver ? { driver: config.driver } : {}),
    buttons,
  };
}

/** Checks a `keyboard-pad` entry; throws PadConfigError naming every wrong field. */
export function parseKeyboardPadConfig(input: Record<string, unknown>): KeyboardPadOptions {
  if (!checkKeyboard.Check(input)) throw new PadConfigError(`keyboard-pad: ${describeErrors(checkKeyboard.Errors(input) as never)}`);
  const config = input as KeyboardPadConfig;
  const entries = Object.entries(config.keys);
  if (!entries.length) throw new PadConfigError('keyboard-pad: /keys: map at least one key to an action');
  const keys = new Map<number, PadAction>();
  for (const [name, action] of entries) {
    const code = keyCode(name);
    if (code === undefined) {
      throw new PadConfigError(`keyboard-pad: /keys/${name}: unknown key (a name such as KEY_F1, F1, KP1, KEY_A, BTN_0, or a code 1-767; evtest shows a pad's keys)`);
    }
    if (keys.has(code)) throw new PadConfigError(`keyboard-pad: /keys/${name}: key ${code} is mapped twice`);
    keys.set(code, parseAction(action));
  }
  return {
    ...common(config, `keyboard-pad ${config.path}`),
    path: config.path,
    keys,
    recordSize: config.recordSize ?? NATIVE_RECORD_SIZE,
  };
}
