import { registerPeripheral } from '../agent/peripherals.ts';
import { createHidPad, createKeyboardPad } from './pad.peripheral.ts';

// Imported once by the agent CLI: the pad types become available to `peripherals: [{type}]`.
registerPeripheral('hid-pad', (config, api) => createHidPad(config, api));
registerPeripheral('keyboard-pad', (config, api) => createKeyboardPad(config, api));
