import type { DeviceListItem, SiteConfig, StaffMember } from '@qms/protocol';
import type { ManagerSession } from '../session.svelte.ts';

// The configuration screen's state: one site at a time, its configuration as screens see it
// (GET /sites/:siteId), its staff and devices. Every save answers with the new configuration,
// which replaces the one shown; the server then tells the site's screens (`site:updated`).

export type Tab = 'site' | 'services' | 'counters' | 'priority' | 'rating' | 'staff' | 'devices';

export class ConfigState {
  siteId = $state<string>('');
  tab = $state<Tab>('site');
  config = $state<SiteConfig | null>(null);
  staff = $state<StaffMember[]>([]);
  devices = $state<DeviceListItem[]>([]);
  loading = $state(false);
  error = $state<unknown>(null);
  /** the latest save: which section, and how it went */
  saved = $state<{ section: string; ok: boolean; error?: unknown; at: number } | null>(null);

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
    try {
      const [config, staff, devices] = await Promise.all([
        this.client.site(this.siteId), this.client.staff(this.siteId), this.client.devices(this.siteId),
      ]);
      this.config = config;
      this.staff = staff;
      this.devices = devices;
    } catch (error) {
      this.error = error;
    } finally {
      this.loading = false;
    }
  }

  /** Runs a change; a returned configuration replaces the shown one. False when refused. */
  async save(section: string, change: () => Promise<SiteConfig | unknown>): Promise<boolean> {
    try {
      const result = await change();
      if (result && typeof result === 'object' && 'services' in result && 'counters' in result) this.config = result as SiteConfig;
      this.saved = { section, ok: true, at: Date.now() };
      return true;
    } catch (error) {
      this.saved = { section, ok: false, error, at: Date.now() };
      return false;
    }
  }

  async reloadConfig(): Promise<void> {
    this.config = await this.client.site(this.siteId);
  }

  async reloadStaff(): Promise<void> {
    this.staff = await this.client.staff(this.siteId);
  }

  async reloadDevices(): Promise<void> {
    this.devices = await this.client.devices(this.siteId);
  }

  counterName(counterId: string | null): string {
    return this.config?.counters.find((c) => c.id === counterId)?.name ?? '';
  }
}
