export { crc16Modbus, crcOk, parseWriteReply, writeMultipleRegisters, exceptionText, MAX_REGISTERS, type ModbusReply } from './modbus.ts';
export { codeToRegisters, type LedLayout } from './led.layout.ts';
export { ModbusRtuPort, ModbusError, type ModbusPortOptions, type SerialBinding } from './modbus.port.ts';
export { LedBoards, LedModbusConfig, createLedPeripheral, parseLedConfig, type LedOptions } from './led.peripheral.ts';
