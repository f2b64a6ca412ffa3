/**
 * The site agent's peripheral plug-in point.
 *
 * A peripheral is anything attached to the kiosk PC that acts for one paired device:
 * counter LED boards (hardware/src/led), physical button or rating pads (hardware/src/pads), ...
 * The agent builds each device's peripherals from its config (`peripherals: [{type, ...}]`)
 * through the registry in ./peripherals.ts, starts them once the device is paired, and
 * stops them on shutdown. A peripheral must never throw out of its listeners: a missing or
 * failing port is logged and retried, it never stops the agent.
 *
 * These signatures are a contract shared with other modules: do not change them.
 */

import type { DeviceKind } from '@qms/protocol';

export interface AgentDeviceApi {
  device: { id: string; kind: DeviceKind; siteId: string; counterId: string | null };
  /** HTTP to /api/v1 with this device's token; never throws on 4xx/5xx, only on network failure */
  request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** socket.io events this device receives (ticket:called, queue:snapshot, ...) */
  on(event: string, listener: (payload: any) => void): () => void;
  log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
}

export interface Peripheral {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export type PeripheralFactory = (config: Record<string, unknown>, api: AgentDeviceApi) => Peripheral;
