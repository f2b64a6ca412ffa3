/**
 * Registry of peripheral types for the site agent.
 *
 * A module registers its types at import time (e.g. hardware/src/led/register.ts calls
 * `registerPeripheral('led-modbus', factory)`); the agent CLI imports the registration
 * modules, then builds each device's `peripherals: [{type, ...}]` with `createPeripheral`.
 */
import type { AgentDeviceApi, Peripheral, PeripheralFactory } from './peripheral.ts';

export type { AgentDeviceApi, Peripheral, PeripheralFactory } from './peripheral.ts';

const registry = new Map<string, PeripheralFactory>();

/** Thrown for a peripheral entry the agent cannot build (unknown type, bad options). */
export class PeripheralConfigError extends Error {
  override name = 'PeripheralConfigError';
}

/** Registers a peripheral type. Registering the same type twice is a programming error. */
export function registerPeripheral(type: string, factory: PeripheralFactory): void {
  if (!type || typeof type !== 'string') throw new TypeError('peripheral type must be a non-empty string');
  if (registry.has(type)) throw new Error(`peripheral type "${type}" is already registered`);
  registry.set(type, factory);
}

/** The factory registered for a type, or undefined. */
export function lookupPeripheral(type: string): PeripheralFactory | undefined {
  return registry.get(type);
}

/** Every registered type, sorted (for error messages and docs). */
export function registeredPeripheralTypes(): string[] {
  return [...registry.keys()].sort();
}

/**
 * Builds one peripheral from its config entry. An unknown type, or a factory rejecting its
 * options, becomes a PeripheralConfigError naming where the entry is (`where`, e.g.
 * `devices[0].peripherals[1]`).
 */
export function createPeripheral(config: Record<string, unknown>, api: AgentDeviceApi, where = 'peripheral'): Peripheral {
  const type = config.type;
  if (typeof type !== 'string' || type === '') {
    throw new PeripheralConfigError(`${where}: "type" must be a non-empty string`);
  }
  const factory = registry.get(type);
  if (!factory) {
    const known = registeredPeripheralTypes();
    throw new PeripheralConfigError(
      `${where}: unknown peripheral type "${type}" (known types: ${known.length ? known.join(', ') : 'none registered'})`,
    );
  }
  try {
    return factory(config, api);
  } catch (err) {
    if (err instanceof PeripheralConfigError) throw new PeripheralConfigError(`${where}: ${err.message}`);
    throw new PeripheralConfigError(`${where} (${type}): ${err instanceof Error ? err.message : String(err)}`);
  }
}
