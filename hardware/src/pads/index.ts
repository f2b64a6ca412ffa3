export { COUNTER_ACTIONS, ACTION_NAMES, PadConfigError, parseAction, actionText, type PadAction, type CounterActionName } from './pad.actions.ts';
export { parseHidPadConfig, parseKeyboardPadConfig, HidPadConfig, KeyboardPadConfig, type HidPadOptions, type KeyboardPadOptions, type HidButton, type HidTarget } from './pad.config.ts';
export { PadDispatcher, type PadOutcome, type PadDispatcherOptions } from './pad.dispatch.ts';
export { HidPadReader, HidReportDecoder, openNodeHid, type HidDeviceLike, type HidOpener } from './hid.pad.ts';
export { KeyboardPadReader } from './keyboard.pad.ts';
export { KEY_CODES, keyCode, keyName, parseInputEvents, encodeInputEvents, keyStroke, EV_KEY, EV_SYN, EV_MSC, NATIVE_RECORD_SIZE, type InputEvent, type RecordSize } from './input-event.ts';
export { createHidPad, createKeyboardPad, type PadDeps, type PadPeripheral } from './pad.peripheral.ts';
export { Backoff, PressGate } from './pad.timing.ts';
export { FakeHidDevice } from './testing.ts';
