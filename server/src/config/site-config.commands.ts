import type {
  AnnouncementUpdate, CounterUpdate, HolidaysUpdate, OpeningHoursUpdate, PriorityGroupsUpdate, ProceduresUpdate, RatingUpdate,
  ServiceUpdate, SiteConfig, SiteUpdate, SiteUpdated, StaffMember, StaffUpdate,
} from '@qms/protocol';
import type { Committed } from '../app/after-commit.ts';
import type { AuthService } from '../auth/auth.service.ts';
import { event, siteUpdated } from '../queue/queue.events.ts';
import type { QueueService } from '../queue/queue.service.ts';
import type { DisplayZone, SiteConfigService } from './site-config.service.ts';
import type { SiteConfigUpdates } from './site-config.updates.ts';

/**
 * The configuration changes of the manager console as commands: each applies its change
 * (site-config.updates.ts holds the rules) and returns what the site's screens must hear
 * (`site:updated` with the parts that changed; they fetch GET /sites/:siteId again) with, as its
 * value, the configuration they will fetch. Changes to accounts and devices also make every
 * process look their tokens up again (AuthService.forget), which closes or re-scopes sockets.
 */
export class SiteConfigCommands {
  constructor(
    private readonly updates: SiteConfigUpdates,
    private readonly sites: SiteConfigService,
    private readonly queue: QueueService,
    private readonly auth: AuthService,
  ) {}

  siteOfService = (serviceId: string) => this.updates.siteOfService(serviceId);
  siteOfCounter = (counterId: string) => this.updates.siteOfCounter(counterId);
  staffOf = (siteId: string) => this.updates.staffOf(siteId);
  member = (userId: string) => this.updates.member(userId);

  updateSite = (siteId: string, input: SiteUpdate) => this.site(siteId, ['site'], this.updates.updateSite(siteId, input));
  setOpeningHours = (siteId: string, input: OpeningHoursUpdate) => this.site(siteId, ['hours'], this.updates.setOpeningHours(siteId, input));
  setHolidays = (siteId: string, input: HolidaysUpdate) => this.site(siteId, ['hours'], this.updates.setHolidays(siteId, input));
  setRating = (siteId: string, input: RatingUpdate) => this.site(siteId, ['rating'], this.updates.setRating(siteId, input));
  setAnnouncement = (siteId: string, input: AnnouncementUpdate) => this.site(siteId, ['announcement'], this.updates.setAnnouncement(siteId, input));
  setPriorityGroups = (siteId: string, input: PriorityGroupsUpdate) => this.site(siteId, ['priority'], this.updates.setPriorityGroups(siteId, input));

  async updateService(serviceId: string, input: ServiceUpdate): Promise<Committed<SiteConfig>> {
    return this.site(await this.siteOfService(serviceId), ['services'], this.updates.updateService(serviceId, input));
  }

  async setProcedures(serviceId: string, input: ProceduresUpdate): Promise<Committed<SiteConfig>> {
    return this.site(await this.siteOfService(serviceId), ['services'], this.updates.setProcedures(serviceId, input));
  }

  /** Counters lose the service too. */
  async deactivateService(serviceId: string): Promise<Committed<SiteConfig>> {
    return this.site(await this.siteOfService(serviceId), ['services', 'counters'], this.updates.deactivateService(serviceId));
  }

  /** The counter's screens also hear counter:updated (its number, name or services). */
  async updateCounter(counterId: string, input: CounterUpdate): Promise<Committed<SiteConfig>> {
    const siteId = await this.siteOfCounter(counterId);
    const { value, events } = await this.site(siteId, ['counters'], this.updates.updateCounter(counterId, input));
    return { value, events: [event('counter:updated', siteId, { counter: await this.queue.getCounter(counterId) }), ...events] };
  }

  async deactivateCounter(counterId: string): Promise<Committed<SiteConfig>> {
    return this.site(await this.siteOfCounter(counterId), ['counters'], this.updates.deactivateCounter(counterId));
  }

  /** Role, active flag, password or name: the account's tokens are looked up again. */
  async updateStaff(userId: string, input: StaffUpdate): Promise<Committed<StaffMember>> {
    const member = await this.updates.updateStaff(userId, input);
    await this.auth.forget({ userId });
    return { value: member, events: member.siteIds.map((siteId) => siteUpdated(siteId, ['staff'])) };
  }

  async addMember(siteId: string, userId: string): Promise<Committed<StaffMember>> {
    await this.updates.addMember(siteId, userId);
    await this.auth.forget({ userId });
    return { value: await this.updates.member(userId), events: [siteUpdated(siteId, ['staff'])] };
  }

  async removeMember(siteId: string, userId: string): Promise<Committed<void>> {
    await this.updates.removeMember(siteId, userId);
    await this.auth.forget({ userId });
    return { value: undefined, events: [siteUpdated(siteId, ['staff'])] };
  }

  async renameDevice(deviceId: string, name: string): Promise<Committed<void>> {
    const siteId = await this.sites.siteOfDevice(deviceId);
    await this.updates.renameDevice(deviceId, name);
    await this.auth.forget({ deviceId });
    return { value: undefined, events: [siteUpdated(siteId, ['devices'])] };
  }

  // ---- creating ----

  async createService(siteId: string, input: Parameters<SiteConfigService['createService']>[1]) {
    const service = await this.sites.createService(siteId, input);
    return { value: service, events: [siteUpdated(siteId, ['services'])] };
  }

  async createCounter(siteId: string, input: Parameters<SiteConfigService['createCounter']>[1]) {
    const counter = await this.sites.createCounter(siteId, input);
    return { value: counter, events: [siteUpdated(siteId, ['counters'])] };
  }

  async createStaff(siteId: string, input: Omit<Parameters<AuthService['createUser']>[0], 'siteIds'>) {
    await this.sites.assertSite(siteId);
    const user = await this.auth.createUser({ ...input, siteIds: [siteId] });
    return { value: user, events: [siteUpdated(siteId, ['staff'])] };
  }

  /** A new device and its token and pairing code (shown once). */
  async registerDevice(siteId: string, input: Omit<Parameters<AuthService['registerDevice']>[0], 'siteId'>) {
    await this.sites.assertSite(siteId);
    const registered = await this.auth.registerDevice({ siteId, ...input });
    return { value: registered, events: [siteUpdated(siteId, ['devices'])] };
  }

  /** Its token stops working here and in every process, and its open sockets close (realtime). */
  async revokeDevice(deviceId: string): Promise<Committed<void>> {
    const siteId = await this.sites.siteOfDevice(deviceId);
    await this.auth.revokeDevice(deviceId);
    return { value: undefined, events: [siteUpdated(siteId, ['devices'])] };
  }

  /**
   * A display's zone. The display re-reads its own settings on site:updated ['zones'] (and on
   * every reconnect): no reconnection, so no call is missed and its queued announcements go on.
   */
  async setDisplayZone(device: Parameters<SiteConfigService['setDisplayZone']>[0], zone: DisplayZone | null): Promise<Committed<DisplayZone | null>> {
    await this.sites.setDisplayZone(device, zone);
    return { value: zone, events: [siteUpdated(device.siteId, ['zones'])] };
  }

  private async site(siteId: string, parts: SiteUpdated['parts'], change: Promise<void>): Promise<Committed<SiteConfig>> {
    await change;
    return { value: await this.sites.siteConfig(siteId), events: [siteUpdated(siteId, parts)] };
  }
}
