import type {
  DeviceKind,
  Alert, AnnouncementUpdate, ArrivalsHeatmap, AuthUser, DossierReport, ReportPeriod, SatisfactionGroupBy, SatisfactionReport, Counter, CounterUpdate, DeviceInfo, DeviceListItem, HolidaysUpdate, OpeningHoursUpdate,
  PriorityGroupsUpdate, ProceduresUpdate, PublicTicket, QueueSnapshot, RatingUpdate, ReportGroupBy, ServiceUpdate, SiteConfig,
  SiteUpdate, StaffMember, StaffPhoto, StaffUpdate, SummaryReport, Ticket,
} from './schemas.ts';
import type { KioskPrinter, PrintOutcome, IssueReply } from './requests.ts';
import type { RatingRequest, TodayFigures, WaitingTicket } from './desk.ts';
import type {
  CaseEvent, ChannelUpdate, ChannelView, ContactReply, Delivery, NotificationSettings, NotifyChannel, Recipient, RecipientInput, Template,
  TemplatePreview, TestSendReply, Webhook,
} from './notifications.ts';
import type { AddDossierBody, DossierLookup, IntegrationScope, Visit } from './dossiers.ts';
import type { AuditFilter, AuditPage } from './audit.ts';

/** What the report downloads are (GET /sites/:siteId/reports/<file> or /reports/<file>). */
export type ReportFile = 'summary.csv' | 'summary.xlsx' | 'tickets.csv' | 'tickets.xlsx' | 'audit.csv' | 'audit.xlsx';
/** The periodic satisfaction export of one site (GET /sites/:siteId/reports/satisfaction.<xlsx|csv>). */
export type SatisfactionFile = 'satisfaction.xlsx' | 'satisfaction.csv';
/** A local month (1..12) or quarter (1..4) of the site. */
export type PeriodQuery =
  | { period: 'month'; year: number; month: number }
  | { period: 'quarter'; year: number; quarter: number };
export interface SatisfactionFileQuery {
  /** the CSV's grouping (default staff); the XLSX has a sheet per grouping */
  groupBy?: SatisfactionGroupBy;
  lang?: 'vi' | 'en';
}
export type { ReportPeriod };
export interface ReportRange {
  /** ISO-8601 with offset */
  from: string;
  to: string;
  groupBy?: ReportGroupBy;
  lang?: 'vi' | 'en';
}

// The typed client every screen, the site agent and the tests use: HTTP for commands (this file),
// a socket for events (client.ts).

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ClientOptions {
  /** server origin, e.g. http://127.0.0.1:8080; '' for the page's own origin */
  baseUrl?: string;
  token?: string;
  fetch?: typeof fetch;
}

/** Per call: extra headers (Idempotency-Key), an abort signal (a timeout), another token (null: none). */
export interface CallOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
  token?: string | null;
  /** a browser's cache mode, e.g. 'no-store' for a page that polls */
  cache?: RequestCache;
}

/** POST /sites/:siteId/tickets as a kiosk sees it: the ticket, how its printer did, and the QR code's address. */
export interface Issued {
  ticket: Ticket;
  /** the procedure the ticket was issued for (procedureCode), as printed */
  procedure?: { code: string; name: { vi: string; en: string } };
  print: PrintOutcome;
  phoneUrl?: string;
  /** the ticket the first request of this press made (Idempotency-Key), answered again */
  replayed: boolean;
}

/** POST /sites/:siteId/tickets's body */
export interface IssueInput {
  serviceId: string;
  priority?: string;
  lang?: 'vi' | 'en';
  /** the procedure found at the kiosk (its national code) */
  procedureCode?: string;
}

/** '?a=1&b=2' of the defined values ('' when none). */
function query(params: object): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}` : '';
}

/** The counters and/or services a display shows (PUT /devices/:deviceId/zone). */
export interface DisplayZone {
  counterIds?: string[];
  serviceIds?: string[];
}
export type { KioskPrinter, PrintOutcome };

/**
 * The HTTP side of the client: every call of the API, typed, with no socket (and so without
 * socket.io: the phone page carries only this). createClient adds the socket.
 */
export function createHttpClient(options: ClientOptions = {}) {
  const baseUrl = options.baseUrl ?? '';
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  let token = options.token;

  /**
   * One call of the API: the answer's body, or an ApiError with the server's code and details.
   * `upload`: a file sent as it is (its own content type) instead of a JSON body. A network
   * failure (or `signal` aborting) rejects with fetch's own error, not an ApiError.
   */
  async function request<T>(method: string, path: string, body?: unknown, upload?: Blob, call: CallOptions = {}): Promise<T> {
    const res = await send(method, path, body, upload, call);
    if (res.status === 204) return null as T;
    const text = await res.text();
    let data: { error?: { code?: string; message?: string; details?: unknown } } | null = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (error) {
      // a proxy's HTML error page: the status says what happened
      if (res.ok) throw error;
    }
    if (!res.ok) {
      const e = data?.error ?? {};
      throw new ApiError(res.status, e.code ?? 'HTTP_' + res.status, e.message ?? res.statusText, e.details);
    }
    return data as T;
  }

  function send(method: string, path: string, body: unknown, upload: Blob | undefined, call: CallOptions): Promise<Response> {
    const headers: Record<string, string> = { ...call.headers };
    const bearer = call.token === undefined ? token : call.token;
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    const sends = method !== 'GET' && method !== 'DELETE';
    if (sends) headers['content-type'] = upload ? upload.type || 'application/octet-stream' : 'application/json';
    return doFetch(`${baseUrl}/api/v1${path}`, {
      method, headers, credentials: 'include',
      ...(sends ? { body: upload ?? JSON.stringify(body === undefined ? {} : body) } : {}),
      ...(call.signal ? { signal: call.signal } : {}),
      ...(call.cache ? { cache: call.cache } : {}),
    });
  }

  const ticketAction = (action: string) => (ticketId: string) =>
    request<{ ticket: Ticket }>('POST', `/tickets/${ticketId}/${action}`).then((r) => r.ticket);
  const counterAction = (action: string) => (counterId: string, body?: object) =>
    request<{ counter: Counter }>('POST', `/counters/${counterId}/${action}`, body).then((r) => r.counter);

  return {
    get token() {
      return token;
    },
    /** the server origin it calls ('' for the page's own) */
    baseUrl,
    setToken(value: string | undefined) {
      token = value;
    },
    login: async (username: string, password: string) => {
      const r = await request<{ token: string; user: AuthUser; expiresAt: string }>('POST', '/auth/login', { username, password });
      token = r.token;
      return r;
    },
    logout: () => request<null>('POST', '/auth/logout'),
    me: () => request<{ kind: 'staff'; user: AuthUser; siteIds: string[] } | { kind: 'device'; device: DeviceInfo }>('GET', '/auth/me'),
    pair: async (code: string) => {
      const r = await request<{ device: DeviceInfo; token: string }>('POST', '/devices/pair', { code });
      token = r.token;
      return r;
    },
    sites: () => request<{ id: string; code: string; name: string; timezone: string }[]>('GET', '/sites'),
    site: (siteId: string) => request<SiteConfig>('GET', `/sites/${siteId}`),
    queue: (siteId: string) => request<QueueSnapshot>('GET', `/sites/${siteId}/queue`),
    issueTicket: (siteId: string, body: IssueInput) =>
      request<{ ticket: Ticket }>('POST', `/sites/${siteId}/tickets`, body).then((r) => r.ticket),
    /** Issue with the whole reply (print, phoneUrl); `key`: the press's Idempotency-Key, the same on every retry. */
    issue: async (siteId: string, body: IssueInput, options: { key?: string; signal?: AbortSignal } = {}): Promise<Issued> => {
      const res = await send('POST', `/sites/${encodeURIComponent(siteId)}/tickets`, body, undefined, {
        ...(options.key ? { headers: { 'idempotency-key': options.key } } : {}), ...(options.signal ? { signal: options.signal } : {}),
      });
      const data = await res.json().catch(() => null) as (IssueReply & { error?: { code?: string; message?: string; details?: unknown } }) | null;
      if (!res.ok) {
        const e = data?.error ?? {};
        throw new ApiError(res.status, e.code ?? `HTTP_${res.status}`, e.message ?? res.statusText, e.details);
      }
      if (!data?.ticket) throw new ApiError(res.status, 'BAD_REPLY', 'The server answered without a ticket');
      return {
        ticket: data.ticket, print: data.print ?? { status: 'none' }, ...(data.phoneUrl ? { phoneUrl: data.phoneUrl } : {}),
        ...(data.procedure ? { procedure: data.procedure } : {}), replayed: res.headers.get('idempotent-replayed') === 'true' };
    },
    ticket: (ticketId: string) => request<{ ticket: Ticket }>('GET', `/tickets/${ticketId}`).then((r) => r.ticket),
    /** the ticket with its procedures and dossier codes */
    visit: (ticketId: string) => request<Visit>('GET', `/tickets/${ticketId}/visit`),
    /** the visit's procedures, all of them (national codes of the site's procedures) */
    setTicketProcedures: (ticketId: string, codes: string[]) => request<Visit>('PUT', `/tickets/${ticketId}/procedures`, { codes }),
    /** a dossier code received or returned during the visit; the same code and direction again changes nothing */
    addDossier: (ticketId: string, body: AddDossierBody) => request<Visit>('POST', `/tickets/${ticketId}/dossiers`, body),
    removeDossier: (ticketId: string, dossierId: string) => request<null>('DELETE', `/tickets/${ticketId}/dossiers/${dossierId}`),
    /** every visit of a dossier at the site (manager, admin, or an integration key with dossiers:read) */
    dossier: (siteId: string, dossierCode: string) => request<DossierLookup>('GET', `/sites/${siteId}/dossiers/${encodeURIComponent(dossierCode)}`),
    publicTicket: (publicId: string, call: CallOptions = {}) =>
      request<PublicTicket>('GET', `/public/tickets/${encodeURIComponent(publicId)}`, undefined, undefined, call),
    /** the phone page's rating of its own ticket (the publicId is its key) */
    ratePublicTicket: (publicId: string, body: { score: number; reason?: string }) =>
      request<{ rating: { score: number; reason: string | null; createdAt: string } }>('POST', `/public/tickets/${encodeURIComponent(publicId)}/rating`, body)
        .then((r) => r.rating),
    /** a phone number for this ticket's messages, with the citizen's consent (kiosk, phone page) */
    addContact: (publicId: string, body: { phone: string; lang?: 'vi' | 'en' }) =>
      request<ContactReply>('POST', `/public/tickets/${encodeURIComponent(publicId)}/contact`, { ...body, consent: true }),
    removeContact: (publicId: string) => request<null>('DELETE', `/public/tickets/${encodeURIComponent(publicId)}/contact`),
    callNext: (counterId: string) => request<{ ticket: Ticket } | null>('POST', `/counters/${counterId}/call-next`).then((r) => r?.ticket ?? null),
    callTicket: ticketAction('call'),
    recall: ticketAction('recall'),
    start: ticketAction('start'),
    finish: ticketAction('finish'),
    noShow: ticketAction('no-show'),
    cancel: ticketAction('cancel'),
    transfer: (ticketId: string, serviceId: string) =>
      request<{ ticket: Ticket }>('POST', `/tickets/${ticketId}/transfer`, { serviceId }).then((r) => r.ticket),
    rate: (ticketId: string, body: { score: number; reason?: string; comment?: string }) =>
      request<{ rating: { id: string; score: number } }>('POST', `/tickets/${ticketId}/rating`, body).then((r) => r.rating),
    counter: (counterId: string) => request<{ counter: Counter }>('GET', `/counters/${counterId}`).then((r) => r.counter),
    openCounter: counterAction('open'),
    pauseCounter: (counterId: string, reason?: string) => counterAction('pause')(counterId, reason ? { reason } : {}),
    resumeCounter: counterAction('resume'),
    closeCounter: counterAction('close'),
    registerDevice: (siteId: string, body: { kind: DeviceKind; name: string; counterId?: string }) =>
      request<{ device: DeviceInfo; token: string; pairingCode: string; pairingExpiresAt: string }>('POST', `/sites/${siteId}/devices`, body),
    revokeDevice: (deviceId: string) => request<null>('DELETE', `/devices/${deviceId}`),

    // ---- manager console: alerts, reports, configuration (extensions of API.md) ----
    alerts: (siteId: string, options: { open?: boolean; limit?: number; group?: 'complaints' | 'devices' | 'waits'; unresolved?: boolean } = {}) =>
      request<{ alerts: Alert[] }>('GET', `/sites/${siteId}/alerts${query({
        open: options.open ? '1' : undefined, limit: options.limit, group: options.group, unresolved: options.unresolved ? '1' : undefined,
      })}`).then((r) => r.alerts),
    acknowledgeAlert: (alertId: string) => request<{ alert: Alert }>('POST', `/alerts/${alertId}/acknowledge`).then((r) => r.alert),
    raiseCriticism: (comment?: string) => request<{ alert: Alert }>('POST', '/alerts/criticism', comment ? { comment } : {}).then((r) => r.alert),

    // ---- the counter terminal's and the rating tablet's reads (protocol/src/desk.ts) ----
    /** today's figures of the official working the counter */
    counterToday: (counterId: string) => request<TodayFigures>('GET', `/counters/${counterId}/today`),
    /** waiting tickets in call order, of these services (all when none) */
    waiting: (siteId: string, serviceIds: string[] = []) =>
      request<{ total: number; tickets: WaitingTicket[] }>('GET', `/sites/${siteId}/waiting${query({ serviceIds: serviceIds.join(',') })}`),
    /** what a rating tablet should ask after a reconnect; null: nothing */
    ratingRequest: (counterId: string) => request<RatingRequest | null>('GET', `/counters/${counterId}/rating-request`),
    /** the calling device and its settings (a display's zone) */
    deviceMe: () => request<{ device: DeviceInfo & { settings?: never }; settings: Record<string, unknown> }>('GET', '/devices/me'),

    /** notifications and webhooks (docs/notifications.md), for the manager console */
    notify: {
      settings: (siteId: string) => request<{ settings: NotificationSettings }>('GET', `/sites/${siteId}/notification-settings`).then((r) => r.settings),
      setSettings: (siteId: string, settings: NotificationSettings) =>
        request<{ settings: NotificationSettings }>('PUT', `/sites/${siteId}/notification-settings`, settings).then((r) => r.settings),
      channels: (siteId: string) => request<{ channels: ChannelView[] }>('GET', `/sites/${siteId}/notification-channels`).then((r) => r.channels),
      setChannel: (siteId: string, kind: NotifyChannel, body: ChannelUpdate) =>
        request<{ channel: ChannelView }>('PUT', `/sites/${siteId}/notification-channels/${kind}`, body).then((r) => r.channel),
      testSend: (siteId: string, kind: NotifyChannel, body: { to: string; lang?: 'vi' | 'en' }) =>
        request<TestSendReply>('POST', `/sites/${siteId}/notification-channels/${kind}/test`, body),
      templates: (siteId: string) => request<{ templates: Template[] }>('GET', `/sites/${siteId}/notification-templates`).then((r) => r.templates),
      setTemplate: (siteId: string, purpose: string, lang: 'vi' | 'en', body: { subject?: string; body: string }) =>
        request<{ template: Template }>('PUT', `/sites/${siteId}/notification-templates/${purpose}/${lang}`, body).then((r) => r.template),
      resetTemplate: (siteId: string, purpose: string, lang: 'vi' | 'en') =>
        request<{ template: Template }>('DELETE', `/sites/${siteId}/notification-templates/${purpose}/${lang}`).then((r) => r.template),
      preview: (siteId: string, body: { purpose: string; lang: 'vi' | 'en'; subject?: string; body: string }, signal?: AbortSignal) =>
        request<TemplatePreview>('POST', `/sites/${siteId}/notification-templates/preview`, body, undefined, signal ? { signal } : {}),
      recipients: (siteId: string) => request<{ recipients: Recipient[] }>('GET', `/sites/${siteId}/notification-recipients`).then((r) => r.recipients),
      addRecipient: (siteId: string, body: RecipientInput) =>
        request<{ recipient: Recipient }>('POST', `/sites/${siteId}/notification-recipients`, body).then((r) => r.recipient),
      setRecipient: (recipientId: string, body: RecipientInput) =>
        request<{ recipient: Recipient }>('PUT', `/notification-recipients/${recipientId}`, body).then((r) => r.recipient),
      removeRecipient: (recipientId: string) => request<null>('DELETE', `/notification-recipients/${recipientId}`),
      webhooks: (siteId: string) => request<{ webhooks: Webhook[] }>('GET', `/sites/${siteId}/webhooks`).then((r) => r.webhooks),
      addWebhook: (siteId: string, body: { url: string; secret: string; events: string[] }) =>
        request<{ webhook: Webhook }>('POST', `/sites/${siteId}/webhooks`, body).then((r) => r.webhook),
      removeWebhook: (webhookId: string) => request<null>('DELETE', `/webhooks/${webhookId}`),
      webhookDeliveries: (webhookId: string) => request<{ deliveries: Delivery[] }>('GET', `/webhooks/${webhookId}/deliveries`).then((r) => r.deliveries),
      log: (siteId: string, filter: { channel?: string; status?: string; limit?: number } = {}) =>
        request<{ deliveries: Delivery[] }>('GET', `/sites/${siteId}/notifications${query(filter)}`).then((r) => r.deliveries),
      resend: (deliveryId: string) => request<{ delivery: Delivery }>('POST', `/notifications/${deliveryId}/resend`).then((r) => r.delivery),
      keys: (siteId: string) =>
        request<{ keys: { id: string; name: string; scopes: IntegrationScope[]; createdAt: string; lastUsedAt: string | null }[] }>('GET', `/sites/${siteId}/integration-keys`).then((r) => r.keys),
      /** scopes: what the key may do (default: record results only, as before scopes existed) */
      addKey: (siteId: string, name: string, scopes?: IntegrationScope[]) =>
        request<{ id: string; name: string; scopes: IntegrationScope[]; key: string }>('POST', `/sites/${siteId}/integration-keys`, { name, ...(scopes ? { scopes } : {}) }),
      removeKey: (siteId: string, keyId: string) => request<null>('DELETE', `/sites/${siteId}/integration-keys/${keyId}`),
    },
    /** a complaint's case (criticism, low rating) */
    updateCase: (alertId: string, body: { status?: 'new' | 'investigating' | 'resolved'; ownerId?: string | null; note?: string }) =>
      request<{ alert: Alert }>('PATCH', `/alerts/${alertId}/case`, body).then((r) => r.alert),
    caseHistory: (alertId: string) => request<{ history: CaseEvent[] }>('GET', `/alerts/${alertId}/case-history`).then((r) => r.history),

    /**
     * A call whose answer is read whatever its status (the site agent's peripherals): the status
     * and the parsed body. Rejects only when the server cannot be reached.
     */
    raw: async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, call: CallOptions = {}) => {
      const res = await send(method, path.startsWith('/') ? path : `/${path}`, body, undefined, call);
      const text = await res.text();
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = text;
      }
      return { status: res.status, body: parsed as any };
    },
    /** siteId null: every site the caller manages */
    summary: (siteId: string | null, range: ReportRange) =>
      request<SummaryReport>('GET', `${siteId ? `/sites/${siteId}` : ''}/reports/summary${query(range)}`),
    /** tickets issued per local day and hour */
    arrivals: (siteId: string | null, range: ReportRange) =>
      request<ArrivalsHeatmap>('GET', `${siteId ? `/sites/${siteId}` : ''}/reports/arrivals${query({ from: range.from, to: range.to })}`),
    /** The audit log, most recent first (siteId null: every site and the entries of none, administrators); `next` pages on. */
    audit: (siteId: string | null, filter: AuditFilter = {}, call: CallOptions = {}) =>
      request<AuditPage>('GET', `${siteId ? `/sites/${encodeURIComponent(siteId)}` : ''}/audit${query(filter)}`, undefined, undefined, call),
    /** ratings and criticisms of one site, grouped by official, counter, field, procedure or the site */
    satisfaction: (siteId: string, range: { from: string; to: string; groupBy?: SatisfactionGroupBy }) =>
      request<SatisfactionReport>('GET', `/sites/${siteId}/reports/satisfaction${query(range)}`),
    /** visits per dossier of one site: dossiers whose first visit is in the range */
    dossiers: (siteId: string, range: { from: string; to: string }) =>
      request<DossierReport>('GET', `/sites/${siteId}/reports/dossiers${query({ from: range.from, to: range.to })}`),
    /** The URL of the month's or quarter's satisfaction export (fetch it with `download`). */
    satisfactionUrl: (siteId: string, file: SatisfactionFile, period: PeriodQuery, options: SatisfactionFileQuery = {}) =>
      `${baseUrl}/api/v1/sites/${siteId}/reports/${file}${query({ ...period, ...options })}`,
    /** The URL of a report download (fetch it with `download` to follow its progress). */
    reportUrl: (siteId: string | null, file: ReportFile, range: ReportRange) =>
      `${baseUrl}/api/v1${siteId ? `/sites/${siteId}` : ''}/reports/${file}${query(range)}`,
    /** A streaming GET with the client's credentials: the caller reads the body as it arrives. */
    download: async (url: string, signal?: AbortSignal): Promise<Response> => {
      const res = await doFetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, credentials: 'include', ...(signal ? { signal } : {}) });
      if (!res.ok) {
        const data = await res.json().catch(() => null) as { error?: { code?: string; message?: string; details?: unknown } } | null;
        throw new ApiError(res.status, data?.error?.code ?? 'HTTP_' + res.status, data?.error?.message ?? res.statusText, data?.error?.details);
      }
      return res;
    },
    createSite: (body: { code: string; name: string; timezone?: string; level?: 'province' | 'commune' }) =>
      request<{ id: string; code: string; name: string; timezone: string }>('POST', '/sites', body),
    updateSite: (siteId: string, body: SiteUpdate) => request<SiteConfig>('PUT', `/sites/${siteId}`, body),
    setOpeningHours: (siteId: string, body: OpeningHoursUpdate) => request<SiteConfig>('PUT', `/sites/${siteId}/opening-hours`, body),
    setHolidays: (siteId: string, body: HolidaysUpdate) => request<SiteConfig>('PUT', `/sites/${siteId}/holidays`, body),
    setRating: (siteId: string, body: RatingUpdate) => request<SiteConfig>('PUT', `/sites/${siteId}/rating`, body),
    setAnnouncement: (siteId: string, body: AnnouncementUpdate) => request<SiteConfig>('PUT', `/sites/${siteId}/announcement`, body),
    setPriorityGroups: (siteId: string, body: PriorityGroupsUpdate) => request<SiteConfig>('PUT', `/sites/${siteId}/priority-groups`, body),
    createService: (siteId: string, body: { code: string; name: { vi: string; en: string }; prefix: string; targetWaitSeconds?: number }) =>
      request<{ id: string }>('POST', `/sites/${siteId}/services`, body),
    updateService: (serviceId: string, body: ServiceUpdate) => request<SiteConfig>('PUT', `/services/${serviceId}`, body),
    setProcedures: (serviceId: string, body: ProceduresUpdate) => request<SiteConfig>('PUT', `/services/${serviceId}/procedures`, body),
    deleteService: (serviceId: string) => request<null>('DELETE', `/services/${serviceId}`),
    createCounter: (siteId: string, body: { number: number; name: string; serviceIds: string[] }) =>
      request<{ id: string }>('POST', `/sites/${siteId}/counters`, body),
    updateCounter: (counterId: string, body: CounterUpdate) => request<SiteConfig>('PUT', `/counters/${counterId}`, body),
    deleteCounter: (counterId: string) => request<null>('DELETE', `/counters/${counterId}`),
    staff: (siteId: string) => request<StaffMember[]>('GET', `/sites/${siteId}/staff`),
    createStaff: (siteId: string, body: { username: string; password: string; displayName: string; role: 'admin' | 'manager' | 'staff' }) =>
      request<AuthUser>('POST', `/sites/${siteId}/staff`, body),
    updateStaff: (userId: string, body: StaffUpdate) => request<StaffMember>('PUT', `/users/${userId}`, body),
    removeStaff: (siteId: string, userId: string) => request<null>('DELETE', `/sites/${siteId}/staff/${userId}`),
    /** a JPEG, PNG or WebP file of at most 2 MB; the server stores its own re-encoding */
    uploadStaffPhoto: (userId: string, image: Blob) => request<StaffPhoto>('PUT', `/users/${userId}/photo`, undefined, image),
    deleteStaffPhoto: (userId: string) => request<null>('DELETE', `/users/${userId}/photo`),
    devices: (siteId: string) => request<DeviceListItem[]>('GET', `/sites/${siteId}/devices`),
    renameDevice: (deviceId: string, name: string) => request<null>('PUT', `/devices/${deviceId}`, { name }),
    newPairingCode: (deviceId: string) =>
      request<{ pairingCode: string; pairingExpiresAt: string }>('POST', `/devices/${deviceId}/pairing-code`),
    /** a display's zone: null for the whole site */
    displayZone: (deviceId: string) => request<{ deviceId: string; zone: DisplayZone | null }>('GET', `/devices/${deviceId}/zone`).then((r) => r.zone),
    setDisplayZone: (deviceId: string, zone: DisplayZone | null) =>
      request<{ deviceId: string; zone: DisplayZone | null }>('PUT', `/devices/${deviceId}/zone`, zone).then((r) => r.zone),
    /** a kiosk's printer: null for none */
    kioskPrinter: (deviceId: string) => request<{ deviceId: string; printer: KioskPrinter | null }>('GET', `/devices/${deviceId}/printer`).then((r) => r.printer),
    setKioskPrinter: (deviceId: string, printer: KioskPrinter | null) =>
      request<{ deviceId: string; printer: KioskPrinter | null }>('PUT', `/devices/${deviceId}/printer`, printer).then((r) => r.printer),
    testKioskPrinter: (deviceId: string) =>
      request<PrintOutcome>('POST', `/devices/${deviceId}/printer/test`),

  };
}

export type QmsHttpClient = ReturnType<typeof createHttpClient>;
