// Imported by the agent CLI: makes `{"type": "led-modbus", ...}` peripherals available.
import { registerPeripheral } from '../agent/peripherals.ts';
import { createLedPeripheral } from './led.peripheral.ts';

registerPeripheral('led-modbus', (config, api) => createLedPeripheral(config, api));
