import type { AgentDeviceApi, Peripheral } from '../agent/peripheral.ts';
import { actionText, checkActionsFor, type PadAction } from './pad.actions.ts';
import { parseHidPadConfig, parseKeyboardPadConfig, type PadCommonOptions } from './pad.config.ts';
import { PadDispatcher, type PadOutcome } from './pad.dispatch.ts';
import { HidPadReader, type HidOpener } from './hid.pad.ts';
import { KeyboardPadReader } from './keyboard.pad.ts';
import { PressGate } from './pad.timing.ts';

// The two peripheral types the site agent builds from its config: `hid-pad` and `keyboard-pad`.
// Reader (bytes → presses) + debounce + dispatcher (actions → the device's API).

export interface PadDeps {
  /** how a HID pad is opened (default node-hid); tests pass a fake device */
  openHid?: HidOpener;
  /** every outcome of a press (tests; the agent may show the last one) */
  onOutcome?: (outcome: PadOutcome) => void;
  /** the clock of the debounce (tests) */
  now?: () => number;
}

export interface PadPeripheral extends Peripheral {
  readonly connected: boolean;
}

interface Reader {
  readonly connected: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

class Pad implements PadPeripheral {
  private readonly gate: PressGate;
  readonly dispatcher: PadDispatcher;
  reader!: Reader;

  constructor(readonly name: string, options: PadCommonOptions, private readonly api: AgentDeviceApi, deps: PadDeps) {
    this.gate = new PressGate(options.debounceMs, deps.now);
    this.dispatcher = new PadDispatcher(api, {
      name,
      ...(options.pauseReason ? { pauseReason: options.pauseReason } : {}),
      ...(options.lowRatingReason ? { lowRatingReason: options.lowRatingReason } : {}),
      ...(options.criticismComment ? { criticismComment: options.criticismComment } : {}),
      ...(deps.onOutcome ? { onOutcome: deps.onOutcome } : {}),
    });
  }

  get connected(): boolean {
    return this.reader.connected;
  }

  /** A press from the reader: debounced, then dispatched; never throws into the reader. */
  readonly press = (input: string, action: PadAction): void => {
    if (!this.gate.accept(input)) {
      this.api.log.info({ pad: this.name, input, action: actionText(action) }, 'pad: bounce ignored');
      return;
    }
    void this.dispatcher.dispatch(action);
  };

  async start(): Promise<void> {
    await this.dispatcher.start();
    await this.reader.start();
  }

  async stop(): Promise<void> {
    await this.reader.stop();
    this.dispatcher.stop();
  }
}

/** Builds a `hid-pad` for the device; throws PadConfigError for a config that cannot work. */
export function createHidPad(config: Record<string, unknown>, api: AgentDeviceApi, deps: PadDeps = {}): PadPeripheral {
  const options = parseHidPadConfig(config);
  checkActionsFor(api.device.kind, options.buttons.map((b, i) => ({ where: `/buttons/${i}`, action: b.action })));
  const pad = new Pad(options.name, options, api, deps);
  pad.reader = new HidPadReader(options, pad.press, { log: api.log, ...(deps.openHid ? { open: deps.openHid } : {}) });
  return pad;
}

/** Builds a `keyboard-pad` for the device; throws PadConfigError for a config that cannot work. */
export function createKeyboardPad(config: Record<string, unknown>, api: AgentDeviceApi, deps: PadDeps = {}): PadPeripheral {
  const options = parseKeyboardPadConfig(config);
  const names = Object.keys(config.keys as Record<string, string>);
  checkActionsFor(api.device.kind, [...options.keys.values()].map((action, i) => ({ where: `/keys/${names[i]}`, action })));
  const pad = new Pad(options.name, options, api, deps);
  pad.reader = new KeyboardPadReader(options, pad.press, { log: api.log });
  return pad;
}
