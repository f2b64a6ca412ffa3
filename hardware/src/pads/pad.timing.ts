import type { AgentDeviceApi } from '../agent/peripheral.ts';

export type PadLog = AgentDeviceApi['log'];

/** Waits before reopening a pad: doubling from min to max, back to min after a success. */
export class Backoff {
  private current: number;

  constructor(private readonly min: number, private readonly max: number) {
    this.current = min;
  }

  next(): number {
    const delay = this.current;
    this.current = Math.min(this.max, this.current * 2);
    return delay;
  }

  reset(): void {
    this.current = this.min;
  }
}

/**
 * Debounce per input: a press of the same button within `ms` of its last accepted press is a
 * bounce. The window runs from the accepted press, so a chattering contact cannot stretch it.
 */
export class PressGate {
  private readonly last = new Map<string, number>();

  constructor(private readonly ms: number, private readonly now: () => number = () => performance.now()) {}

  accept(input: string): boolean {
    const t = this.now();
    const previous = this.last.get(input);
    if (previous !== undefined && t - previous < this.ms) return false;
    this.last.set(input, t);
    return true;
  }
}
