import type { Booking, BookingReport, BookingSettings, CapacityBlock, CapacityProposal, CapacityReply, ProcedureInfo } from '@qms/protocol';
import { ApiError, type QmsClient } from '@qms/protocol/client';

// The console's calls for appointments (server/src/routes/booking-config.routes.ts and the
// bookings report), over the shared client's `raw`: its token, its origin, the API's error codes.

async function call<T>(client: QmsClient, method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await client.raw(method, path, body);
  if (res.status >= 400) {
    const e = (res.body as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error ?? {};
    throw new ApiError(res.status, e.code ?? `HTTP_${res.status}`, e.message ?? '', e.details);
  }
  return res.body as T;
}

const site = (siteId: string) => `/sites/${encodeURIComponent(siteId)}`;

export const bookingApi = {
  settings: (c: QmsClient, siteId: string) => call<{ settings: BookingSettings }>(c, 'GET', `${site(siteId)}/booking-settings`).then((r) => r.settings),
  setSettings: (c: QmsClient, siteId: string, settings: BookingSettings) =>
    call<{ settings: BookingSettings }>(c, 'PUT', `${site(siteId)}/booking-settings`, settings).then((r) => r.settings),
  capacity: (c: QmsClient, siteId: string) => call<CapacityReply>(c, 'GET', `${site(siteId)}/booking-capacity`).then((r) => r.blocks),
  setCapacity: (c: QmsClient, siteId: string, blocks: CapacityBlock[]) =>
    call<CapacityReply>(c, 'PUT', `${site(siteId)}/booking-capacity`, { blocks }).then((r) => r.blocks),
  proposal: (c: QmsClient, siteId: string) => call<CapacityProposal>(c, 'GET', `${site(siteId)}/booking-capacity/proposal`).then((r) => r.blocks),
  setProcedureInfo: (c: QmsClient, siteId: string, code: string, info: ProcedureInfo) =>
    call<{ info: ProcedureInfo }>(c, 'PUT', `${site(siteId)}/procedures/${encodeURIComponent(code)}/info`, info).then((r) => r.info),
  /** a day's bookings and remote tickets, by slot (server/src/routes/booking.routes.ts) */
  day: (c: QmsClient, siteId: string, date: string) => call<{ bookings: Booking[] }>(c, 'GET', `${site(siteId)}/bookings?date=${encodeURIComponent(date)}`).then((r) => r.bookings),
  cancel: (c: QmsClient, siteId: string, code: string) => call<{ booking: Booking }>(c, 'POST', `${site(siteId)}/bookings/${encodeURIComponent(code)}/cancel`).then((r) => r.booking),
  report: (c: QmsClient, siteId: string, q: { from: string; to: string; within: number }) =>
    call<BookingReport>(c, 'GET', `${site(siteId)}/reports/bookings?${new URLSearchParams({ from: q.from, to: q.to, within: String(q.within) }).toString()}`),
  reportUrl: (c: QmsClient, siteId: string, format: 'csv' | 'xlsx', q: { from: string; to: string; within: number; lang: 'vi' | 'en' }) =>
    `${c.baseUrl}/api/v1${site(siteId)}/reports/bookings.${format}?${new URLSearchParams({ from: q.from, to: q.to, within: String(q.within), lang: q.lang }).toString()}`,
};

// ---- the capacity grid's blocks (the server's rule: bookings/booking-config.service.ts) ----

/** The grid's columns: Monday first, as the centre's week (ISO weekdays, as the opening hours and CapacityBlock). */
export const GRID_WEEKDAYS = [1, 2, 3, 4, 5, 6, 7];

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
export const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/**
 * The block starts (HH:mm) of each ISO weekday (7 = Sunday): whole blocks from each session's opening
 * to its closing. No opening hours at all: open at all times, blocks from midnight.
 */
export function blocksByWeekday(hours: { weekday: number; opens: string; closes: string }[], blockMinutes: number): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (let w = 1; w <= 7; w++) out.set(w, []);
  const sessions = hours.length ? hours : [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, opens: '00:00', closes: '24:00' }));
  for (const s of sessions) {
    const list = out.get(s.weekday)!;
    for (let t = minutesOf(s.opens); t + blockMinutes <= minutesOf(s.closes); t += blockMinutes) list.push(hhmm(t));
  }
  for (const list of out.values()) list.sort();
  return out;
}

export const cellKey = (serviceId: string, weekday: number, starts: string) => `${serviceId} ${weekday} ${starts}`;
