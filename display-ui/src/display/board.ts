// What the wall display shows, worked out from the site's state: pure functions, no DOM, no
// socket, so the rules (zones, which calls, flashing, how the counters fit) are unit-tested.

import type { CounterQueue, CounterStatus, Localized, QueueSnapshot, RecentCall, ServiceQueue, SiteConfig, TicketCalled } from '@qms/protocol';
import { isAtCounter } from '@qms/protocol/lifecycle';
import { formatDate } from '@qms/ui-shared/format';

/**
 * The part of a site one display covers (device.settings.zone). Each list that is given limits
 * the display; both given, a call must match both. null is the whole site.
 */
export interface Zone {
  counterIds?: string[];
  serviceIds?: string[];
}

/** The zone in a device's settings, or null (whole site) when there is none or it is not one. */
export function zoneOf(settings: unknown): Zone | null {
  const zone = (settings as { zone?: unknown } | null | undefined)?.zone as { counterIds?: unknown; serviceIds?: unknown } | null | undefined;
  if (!zone || typeof zone !== 'object') return null;
  const ids = (value: unknown) => (Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string' && id.length > 0) : []);
  const counterIds = ids(zone.counterIds);
  const serviceIds = ids(zone.serviceIds);
  if (!counterIds.length && !serviceIds.length) return null;
  return { ...(counterIds.length ? { counterIds } : {}), ...(serviceIds.length ? { serviceIds } : {}) };
}

/** A call (a ticket of `serviceId` sent to `counterId`) this display shows and announces. */
export function callInZone(zone: Zone | null, call: { counterId: string; serviceId: string }): boolean {
  if (!zone) return true;
  if (zone.counterIds && !zone.counterIds.includes(call.counterId)) return false;
  if (zone.serviceIds && !zone.serviceIds.includes(call.serviceId)) return false;
  return true;
}

/** A counter gets a row when it is in the zone's counters and serves one of its services. */
export function counterInZone(zone: Zone | null, counter: { counterId: string; serviceIds: readonly string[] }): boolean {
  if (!zone) return true;
  if (zone.counterIds && !zone.counterIds.includes(counter.counterId)) return false;
  if (zone.serviceIds && !counter.serviceIds.some((id) => zone.serviceIds!.includes(id))) return false;
  return true;
}

/** A service shows its waiting count when it is in the zone's services and one of its counters serves it. */
export function serviceInZone(zone: Zone | null, serviceId: string, counters: readonly { counterId: string; serviceIds: readonly string[] }[]): boolean {
  if (!zone) return true;
  if (zone.serviceIds && !zone.serviceIds.includes(serviceId)) return false;
  if (zone.counterIds && !counters.some((c) => zone.counterIds!.includes(c.counterId) && c.serviceIds.includes(serviceId))) return false;
  return true;
}

// ---- calls ---------------------------------------------------------------------------

/** One call as the display keeps it. */
export interface CallEntry {
  ticketId: string;
  code: string;
  serviceId: string;
  counterId: string;
  counterNumber: number;
  counterName: string;
  /** when it was called or recalled, ms on the server's clock */
  at: number;
  recall: boolean;
  /** the ticket came from a booking ('slot') or was taken from away ('remote'): the board marks it */
  booking?: 'slot' | 'remote';
}

/** Calls the display keeps for the whole site (its zone filters them when drawn). */
export const KEPT_CALLS = 60;

/** A call of a snapshot: the server's time of the call or recall event. */
export function entryFromRecent(call: RecentCall): CallEntry {
  return {
    ticketId: call.ticket.id, code: call.ticket.code, serviceId: call.ticket.serviceId,
    counterId: call.counter.id, counterNumber: call.counter.number, counterName: call.counter.name,
    at: Date.parse(call.at), recall: false, ...bookingOf(call.ticket),
  };
}

/**
 * A live call, stamped `at` (the server's clock as the display reckons it) when it arrived, so
 * the big box shows the call that came last, the one the voice says last (calls made together
 * may reach it in another order than their instants).
 */
export function entryFromLive(call: TicketCalled, at: number): CallEntry {
  return {
    ticketId: call.ticket.id, code: call.ticket.code, serviceId: call.ticket.serviceId,
    counterId: call.counter.id, counterNumber: call.counter.number, counterName: call.counter.name,
    at, recall: call.recall, ...bookingOf(call.ticket),
  };
}

const bookingOf = (ticket: { booking?: { kind: 'slot' | 'remote' } }) => (ticket.booking ? { booking: ticket.booking.kind } : {});

/** Of several calls, each ticket's latest (a recall, or a call at another counter after a transfer). */
function latestPerTicket<T>(calls: Iterable<T>, of: (call: T) => { ticketId: string; at: number }): Map<string, T> {
  const latest = new Map<string, { call: T; at: number }>();
  for (const call of calls) {
    const { ticketId, at } = of(call);
    const seen = latest.get(ticketId);
    if (!seen || at >= seen.at) latest.set(ticketId, { call, at });
  }
  return new Map([...latest].map(([id, { call }]) => [id, call]));
}

/**
 * The calls kept so far with new ones (a snapshot's, or one live call): newest first, one per
 * ticket (its latest call: a recall or a transfer called elsewhere replaces the older one), at
 * most `limit`. Kept calls survive a snapshot, so a display limited to one counter still has
 * its own recent calls after a reconnect although the server sends the site's last few only.
 */
export function mergeCalls(kept: readonly CallEntry[], incoming: readonly CallEntry[], limit = KEPT_CALLS): CallEntry[] {
  return [...latestPerTicket([...kept, ...incoming], (c) => c).values()].sort((a, b) => b.at - a.at).slice(0, limit);
}

// ---- calls heard and missed ----------------------------------------------------------

/** A call the display missed is still announced when the snapshot that brings it is at most this late. */
export const MISSED_CALL_MS = 2 * 60_000;

/**
 * The calls a display has heard (live, or from a snapshot): per ticket, the server's instant of
 * the latest call or recall heard. A call is told from another by that instant, which the live
 * event and the snapshot give alike, so no clock of the display's enters into it.
 */
export type Heard = Map<string, number>;

/** A call (a snapshot's, or a live one) as Heard knows it: its ticket and the server's instant of the call or recall. */
export const heardOf = (call: Pick<RecentCall, 'ticket' | 'at'>): { ticketId: string; at: number } => ({ ticketId: call.ticket.id, at: Date.parse(call.at) });

/** One call (or recall) of a ticket: the ticket and the server's instant of the call. */
export const callKey = ({ ticketId, at }: { ticketId: string; at: number }): string => `${ticketId}@${at}`;

/** Whether this call (or a later one of its ticket) was heard. */
export const wasHeard = (heard: Heard, ticketId: string, at: number): boolean => (heard.get(ticketId) ?? -Infinity) >= at;

/** Notes calls as heard, and forgets those older than MISSED_CALL_MS before `now` (server ms): they are never announced late. */
export function hearCalls(heard: Heard, calls: Iterable<{ ticketId: string; at: number }>, now: number): void {
  for (const { ticketId, at } of calls) if (!wasHeard(heard, ticketId, at)) heard.set(ticketId, at);
  for (const [ticketId, at] of heard) if (at < now - MISSED_CALL_MS) heard.delete(ticketId);
}

/** What a display keeps across reloads (in the browser's storage): the calls it heard, and which of them it had still to say. */
export interface HeardRecord {
  deviceId: string;
  /** Heard's entries */
  calls: [string, number][];
  /** callKey of the calls heard and not said yet (queued behind others, held, cut off): the next page says them late */
  unsaid: string[];
}

/**
 * The record to keep: the calls heard, with those still to be said marked. Only a ticket's
 * latest call heard is marked: an older one is covered by it, and one hearCalls has forgotten
 * (past MISSED_CALL_MS) would never be said late, so a display whose sound stays blocked for
 * months does not fill its storage with them.
 */
export function heardRecord(deviceId: string, heard: Heard, toSay: Iterable<{ ticketId: string; at: number }>): HeardRecord {
  const unsaid = [...toSay].filter((c) => heard.get(c.ticketId) === c.at).map(callKey);
  return { deviceId, calls: [...heard], unsaid };
}

/**
 * The calls a kept record says this device heard, without those it had still to say (so that
 * the next snapshot says them late if the citizen is still awaited, missedCalls); null when the
 * record is not this device's or not a record. A record without `unsaid` (an older page's) has
 * every call heard.
 */
export function heardFromRecord(stored: unknown, deviceId: string): Heard | null {
  const record = stored as { deviceId?: unknown; calls?: unknown; unsaid?: unknown } | null;
  if (record?.deviceId !== deviceId || !Array.isArray(record.calls)) return null;
  const unsaid = new Set(Array.isArray(record.unsaid) ? record.unsaid : []);
  return new Map(record.calls.filter((c): c is [string, number] =>
    Array.isArray(c) && typeof c[0] === 'string' && typeof c[1] === 'number' && !unsaid.has(callKey({ ticketId: c[0], at: c[1] }))));
}

/**
 * Every call a snapshot shows or implies, each ticket's latest: its recent calls, and the
 * counters' current tickets, which reach past the few recent calls the server sends, each at its
 * latest call or recall (lastCallAt; from a server without it, at its first call).
 */
export function snapshotCalls(snapshot: Pick<QueueSnapshot, 'recentCalls' | 'counters'>): RecentCall[] {
  const calls = latestPerTicket(snapshot.recentCalls, heardOf);
  for (const c of snapshot.counters) {
    const at = c.lastCallAt ?? c.ticket?.calledAt;
    if (!c.ticket || !at) continue;
    const recent = calls.get(c.ticket.id);
    if (!recent || Date.parse(at) > Date.parse(recent.at)) {
      calls.set(c.ticket.id, { ticket: c.ticket, counter: { id: c.counterId, number: c.number, name: c.name }, at });
    }
  }
  return [...calls.values()];
}

/**
 * Of a snapshot's calls (snapshotCalls), those a display should announce late, oldest first: not
 * heard, at most MISSED_CALL_MS before the snapshot (`snapshotAt`, server ms), and the citizen
 * still awaited (the ticket still `called` at that counter). A call made while the display's
 * link, socket or server was down, or while its page was closed, is then said once it is back.
 */
export function missedCalls(calls: readonly RecentCall[], heard: Heard, snapshotAt: number): RecentCall[] {
  return calls
    .filter((c) => {
      const { ticketId, at } = heardOf(c);
      return c.ticket.status === 'called' && c.ticket.counterId === c.counter.id && at >= snapshotAt - MISSED_CALL_MS && !wasHeard(heard, ticketId, at);
    })
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

// ---- the board -----------------------------------------------------------------------

export interface CounterRow {
  counterId: string;
  number: number;
  name: string;
  status: CounterStatus;
  /** the ticket it is calling or serving now */
  code: string | null;
  /** prefixes of the services it serves, in its order */
  prefixes: string[];
  /** names of the services it serves */
  serves: Localized[];
}

export interface ServiceRow {
  serviceId: string;
  prefix: string;
  name: Localized;
  waiting: number;
}

export interface Board {
  /** the call in the big box: the zone's latest call today */
  current: CallEntry | null;
  /** the calls before it, newest first */
  recent: CallEntry[];
  counters: CounterRow[];
  services: ServiceRow[];
}

/** The big box plus this many earlier calls: the last 7 calls in all. */
export const RECENT_ON_BOARD = 6;

export interface BoardInput {
  calls: readonly CallEntry[];
  snapshot: QueueSnapshot | null;
  config: SiteConfig | null;
  zone: Zone | null;
  /** the site's clock: calls of an earlier day (numbers restart at midnight) are not shown */
  now: Date;
  recentLimit?: number;
}

export function boardOf({ calls, snapshot, config, zone, now, recentLimit = RECENT_ON_BOARD }: BoardInput): Board {
  const timeZone = config?.timezone ?? 'Asia/Ho_Chi_Minh';
  const today = formatDate(now, timeZone);
  const shown = calls.filter((c) => callInZone(zone, c) && formatDate(new Date(c.at), timeZone) === today);

  const services = config?.services ?? [];
  const serviceById = new Map(services.map((s) => [s.id, s]));
  const counters: CounterQueue[] = snapshot?.counters
    ?? config?.counters.map((c) => ({ counterId: c.id, number: c.number, name: c.name, status: c.status, serviceIds: c.serviceIds })) ?? [];
  const counterRows = counters
    .filter((c) => counterInZone(zone, c))
    .sort((a, b) => a.number - b.number)
    .map((c): CounterRow => {
      const own = c.serviceIds.map((id) => serviceById.get(id)).filter((s) => s !== undefined);
      const active = c.ticket && isAtCounter(c.ticket.status) ? c.ticket : undefined;
      return {
        counterId: c.counterId, number: c.number, name: c.name, status: c.status, code: active?.code ?? null,
        prefixes: own.map((s) => s.prefix), serves: own.map((s) => s.name),
      };
    });

  const waiting = new Map((snapshot?.services ?? []).map((s: ServiceQueue) => [s.serviceId, s.waiting]));
  const serviceRows = services
    .filter((s) => serviceInZone(zone, s.id, counters))
    .map((s): ServiceRow => ({ serviceId: s.id, prefix: s.prefix, name: s.name, waiting: waiting.get(s.id) ?? 0 }));

  return { current: shown[0] ?? null, recent: shown.slice(1, 1 + recentLimit), counters: counterRows, services: serviceRows };
}

// ---- flashing ------------------------------------------------------------------------

/** How long the big box flashes after a live call or recall. Once a second: well below 3 flashes a second. */
export const FLASH_MS = 6000;

export interface Flash {
  ticketId: string;
  /** Date.now() when the call arrived */
  since: number;
  /** bumped by every live call, so a recall of the same ticket restarts the animation */
  seq: number;
}

/** Milliseconds the big box still flashes for `current`; 0 when it does not. */
export function flashLeft(flash: Flash | null, current: CallEntry | null, now: number): number {
  if (!flash || !current || flash.ticketId !== current.ticketId) return 0;
  return Math.max(0, flash.since + FLASH_MS - now);
}

// ---- layout --------------------------------------------------------------------------

/** Columns of the counter board: one up to 8 counters, then two, then three. */
export function counterColumns(counters: number): number {
  return counters <= 8 ? 1 : counters <= 16 ? 2 : 3;
}

/** Rows of the waiting strip at the bottom: one up to 8 services, then two. */
export function serviceRows(services: number): number {
  return services <= 8 ? 1 : 2;
}
