import type {
  AnnouncementUpdate, CounterUpdate, HolidaysUpdate, OpeningHoursUpdate, PriorityGroupsUpdate, ProceduresUpdate, RatingUpdate,
  ServiceUpdate, SiteConfig, SiteUpdate, SiteUpdated, StaffMember, StaffUpdate,
} from '@qms/protocol';
import type { Committed } from '../app/after-commit.ts';
import type { AuditActor } from '../audit/audit.service.ts';
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
 * Each takes who is making it (`by`): the change's entry in the audit log is written in the
 * change's transaction (site-config.updates.ts, SiteConfigService, AuthService).
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

  updateSite = (siteId: string, input: SiteUpdate, by: AuditActor) => this.site(siteId, ['site'], this.updates.updateSite(siteId, input, by));
  setOpeningHours = (siteId: string, input: OpeningHoursUpdate, by: AuditActor) => this.site(siteId, ['hours'], this.updates.setOpeningHours(siteId, input, by));
  setHolidays = (siteId: string, input: HolidaysUpdate, by: AuditActor) => this.site(siteId, ['hours'], this.updates.setHolidays(siteId, input, by));
  setRating = (siteId: string, input: RatingUpdate, by: AuditActor) => this.site(siteId, ['rating'], this.updates.setRating(siteId, input, by));
  setAnnouncement = (siteId: string, input: AnnouncementUpdate, by: AuditActor) => this.site(siteId, ['announcement'], this.updates.setAnnouncement(siteId, input, by));
  setPriorityGroups = (siteId: string, input: PriorityGroupsUpdate, by: AuditActor) => this.site(siteId, ['priority'], this.updates.setPriorityGroups(siteId, input, by));

  async updateService(serviceId: string, input: ServiceUpdate, by: AuditActor): Promise<Committed<SiteConfig>> {
    return this.site(await this.siteOfService(serviceId), ['services'], this.updates.updateService(serviceId, input, by));
  }

  async setProcedures(serviceId: string, input: ProceduresUpdate, by: AuditActor): Promise<Committed<SiteConfig>> {
    return this.site(await this.siteOfService(serviceId), ['services'], this.updates.setProcedures(serviceId, input, by));
  }

  /** Counters lose the service too. */
  async deactivateService(serviceId: string, by: AuditActor): Promise<Committed<SiteConfig>> {
    return this.site(await this.siteOfService(serviceId), ['services', 'counters'], this.updates.deactivateService(serviceId, by));
  }

  /** The counter's screens also hear counter:updated (its number, name or services). */
  async updateCounter(counterId: string, input: CounterUpdate, by: AuditActor): Promise<Committed<SiteConfig>> {
    const siteId = await this.siteOfCounter(counterId);
    const { value, events } = await this.site(siteId, ['counters'], this.updates.updateCounter(counterId, input, by));
    return { value, events: [event('counter:updated', siteId, { counter: await this.queue.getCounter(counterId) }), ...events] };
  }

  async deactivateCounter(counterId: string, by: AuditActor): Promise<Committed<SiteConfig>> {
    return this.site(await this.siteOfCounter(counterId), ['counters'], this.updates.deactivateCounter(counterId, by));
  }

  /** Role, active flag, password or name: the account's tokens are looked up again. */
  async updateStaff(userId: string, input: StaffUpdate, by: AuditActor): Promise<Committed<StaffMember>> {
    const member = await this.updates.updateStaff(userId, input, by);
    await this.auth.forget({ userId });
    return { value: member, events: member.siteIds.map((siteId) => siteUpdated(siteId, ['staff'])) };
  }

  async addMember(siteId: string, userId: string, by: AuditActor): Promise<Committed<StaffMember>> {
    await this.updates.addMember(siteId, userId, by);
    await this.auth.forget({ userId });
    return { value: await this.updates.member(userId), events: [siteUpdated(siteId, ['staff'])] };
  }

  async removeMember(siteId: string, userId: string, by: AuditActor): Promise<Committed<void>> {
    await this.updates.removeMember(siteId, userId, by);
    await this.auth.forget({ userId });
    return { value: undefined, events: [siteUpdated(siteId, ['staff'])] };
  }

  async renameDevice(deviceId: string, name: string, by: AuditActor): Promise<Committed<void>> {
    const siteId = await this.sites.siteOfDevice(deviceId);
    await this.updates.renameDevice(deviceId, name, by);
    await this.auth.forget({ deviceId });
    return { value: undefined, events: [siteUpdated(siteId, ['devices'])] };
  }

  // ---- creating ----

  async createService(siteId: string, input: Parameters<SiteConfigService['createService']>[1], by: AuditActor) {
    const service = await this.sites.createService(siteId, input, by);
    return { value: service, events: [siteUpdated(siteId, ['services'])] };
  }

  async createCounter(siteId: string, input: Parameters<SiteConfigService['createCounter']>[1], by: AuditActor) {
    const counter = await this.sites.createCounter(siteId, input, by);
    return { value: counter, events: [siteUpdated(siteId, ['counters'])] };
  }

  async createStaff(siteId: string, input: Omit<Parameters<AuthService['createUser']>[0], 'siteIds'>, by: AuditActor) {
    await this.sites.assertSite(siteId);
    const user = await this.auth.createUser({ ...input, siteIds: [siteId] }, by);
    return { value: user, events: [siteUpdated(siteId, ['staff'])] };
  }

  /** A new device and its token and pairing code (shown once). */
  async registerDevice(siteId: string, input: Omit<Parameters<AuthService['registerDevice']>[0], 'siteId'>, by: AuditActor) {
    await this.sites.assertSite(siteId);
    const registered = await this.auth.registerDevice({ siteId, ...input }, by);
    return { value: registered, events: [siteUpdated(siteId, ['devices'])] };
  }

  /** Its token stops working here and in every process, and its open sockets close (realtime). */
  async revokeDevice(deviceId: string, by: AuditActor): Promise<Committed<void>> {
    const siteId = await this.sites.siteOfDevice(deviceId);
    await this.auth.revokeDevice(deviceId, by);
    return { value: undefined, events: [siteUpdated(siteId, ['devices'])] };
  }

  /**
   * A display's zone. The display re-reads its own settings on site:updated ['zones'] (and on
   * every reconnect): no reconnection, so no call is missed and its queued announcements go on.
   */
  async setDisplayZone(device: Parameters<SiteConfigService['setDisplayZone']>[0], zone: DisplayZone | null, by: AuditActor): Promise<Committed<DisplayZone | null>> {
    await this.sites.setDisplayZone(device, zone, by);
    return { value: zone, events: [siteUpdated(device.siteId, ['zones'])] };
  }

  private async site(siteId: string, parts: SiteUpdated['parts'], change: Promise<void>): Promise<Committed<SiteConfig>> {
    await change;
    return { value: await this.sites.siteConfig(siteId), events: [siteUpdated(siteId, parts)] };
  }
}
