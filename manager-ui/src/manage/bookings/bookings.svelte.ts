import type { BookingSettings, CapacityProposal, SiteConfig } from '@qms/protocol';
import type { ManagerSession } from '../session.svelte.ts';
import { blocksByWeekday, bookingApi, cellKey } from './booking-api.ts';

// The appointments page's state: one site at a time, its booking rules, its configuration (fields
// and opening hours: the grid's rows and columns) and every field's capacities, edited in place.

export class BookingsState {
  siteId = $state('');
  config = $state<SiteConfig | null>(null);
  settings = $state<BookingSettings | null>(null);
  /** the block length the grid is laid out in: the saved rules' */
  blockMinutes = $state(30);
  /** cellKey → capacity as typed ('' none) */
  cells = $state<Record<string, string>>({});
  /** the field shown in the grid */
  serviceId = $state('');
  /** the last proposal of each field: the counters and service time it used */
  proposed = $state<Record<string, { counters: number; serviceSeconds: number }>>({});
  loading = $state(false);
  error = $state<unknown>(null);
  /** the latest action of a section: saved or refused */
  outcome = $state<{ section: string; ok: boolean; error?: unknown; text?: string } | null>(null);

  constructor(readonly session: ManagerSession) {
    this.siteId = session.sites[0]?.id ?? '';
  }

  get client() {
    return this.session.client;
  }

  async load(): Promise<void> {
    if (!this.siteId) return;
    this.loading = true;
    this.error = null;
    this.outcome = null;
    try {
      const [config, settings, blocks] = await Promise.all([
        this.client.site(this.siteId), bookingApi.settings(this.client, this.siteId), bookingApi.capacity(this.client, this.siteId),
      ]);
      this.config = config;
      this.settings = settings;
      this.blockMinutes = settings.blockMinutes;
      this.cells = Object.fromEntries(blocks.map((b) => [cellKey(b.serviceId, b.weekday, b.starts), String(b.capacity)]));
      if (!config.services.some((s) => s.id === this.serviceId)) this.serviceId = config.services[0]?.id ?? '';
      this.proposed = {};
    } catch (error) {
      this.error = error;
    } finally {
      this.loading = false;
    }
  }

  /** block starts of each ISO weekday (7 = Sunday) inside the opening hours */
  get blocks(): Map<number, string[]> {
    return blocksByWeekday(this.config?.openingHours ?? [], this.blockMinutes);
  }

  async run<T>(section: string, action: () => Promise<T>, text?: string): Promise<T | undefined> {
    try {
      const result = await action();
      this.outcome = { section, ok: true, ...(text ? { text } : {}) };
      return result;
    } catch (error) {
      this.outcome = { section, ok: false, error };
      return undefined;
    }
  }

  async saveSettings(): Promise<void> {
    if (!this.settings) return;
    const saved = await this.run('settings', () => bookingApi.setSettings(this.client, this.siteId, $state.snapshot(this.settings!)));
    if (saved) {
      this.settings = saved;
      this.blockMinutes = saved.blockMinutes;
    }
  }

  /** Fills the shown field's cells with the proposal (nothing is saved until "Save"). */
  async propose(): Promise<void> {
    const blocks: CapacityProposal['blocks'] | undefined = await this.run('capacity', () => bookingApi.proposal(this.client, this.siteId));
    if (!blocks) return;
    const mine = blocks.filter((b) => b.serviceId === this.serviceId);
    const cells = { ...this.cells };
    for (const b of mine) cells[cellKey(b.serviceId, b.weekday, b.starts)] = String(b.capacity);
    this.cells = cells;
    if (mine[0]) this.proposed = { ...this.proposed, [this.serviceId]: { counters: mine[0].counters, serviceSeconds: mine[0].serviceSeconds } };
    this.outcome = null;
  }

  /** Every field's blocks inside the opening hours with a capacity above 0; the others are left out (none). */
  capacityBlocks() {
    const open = this.blocks;
    const services = new Set(this.config?.services.map((s) => s.id) ?? []);
    const blocks = [];
    let dropped = 0;
    for (const [key, value] of Object.entries(this.cells)) {
      const [serviceId, weekday, starts] = key.split(' ') as [string, string, string];
      const capacity = Math.max(0, Math.min(1000, Math.floor(Number(value) || 0)));
      if (!capacity) continue;
      if (!services.has(serviceId) || !open.get(Number(weekday))?.includes(starts)) {
        dropped++;
        continue;
      }
      blocks.push({ serviceId, weekday: Number(weekday), starts, capacity });
    }
    return { blocks, dropped };
  }

  async saveCapacity(dropNote: (n: number) => string): Promise<void> {
    const { blocks, dropped } = this.capacityBlocks();
    const saved = await this.run('capacity', () => bookingApi.setCapacity(this.client, this.siteId, blocks), dropped ? dropNote(dropped) : undefined);
    if (saved) {
      this.cells = Object.fromEntries(saved.map((b) => [cellKey(b.serviceId, b.weekday, b.starts), String(b.capacity)]));
      this.proposed = {};
    }
  }
}
