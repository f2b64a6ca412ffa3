// The site agent as a library (tests and other entry points); the CLI is ./cli.ts.
export { SiteAgent, type SiteAgentOptions } from './agent.ts';
export { AgentPrinter, describeAgentPrinter, stateOf, ticketOf, type PrinterState, type PrinterStateReport } from './agent-printer.ts';
export { AgentConfigError, loadAgentConfig, parseAgentConfig, type AgentConfig, type AgentDeviceConfig, type PrinterConfig } from './config.ts';
export { DeviceLink, type Backoff, type DeviceLinkOptions } from './device-link.ts';
export { createLogger, silentLogger, type AgentLogger, type LogLevel } from './log.ts';
export type { AgentDeviceApi, Peripheral, PeripheralFactory } from './peripheral.ts';
export { createPeripheral, lookupPeripheral, registerPeripheral, registeredPeripheralTypes, PeripheralConfigError } from './peripherals.ts';
export { StateStore, type AgentState, type DeviceState } from './state.ts';
