// How numbers, times and waits read on every screen: Vietnamese first (dd/MM/yyyy, 24-hour,
// '.' thousands), English second.

import { wallClock } from '@qms/protocol/calendar';

export type Lang = 'vi' | 'en';

export function formatNumber(value: number, lang: Lang = 'vi', digits = 0): string {
  return new Intl.NumberFormat(lang === 'vi' ? 'vi-VN' : 'en-GB', { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(value);
}

const pad = (n: number) => String(n).padStart(2, '0');

const parts = (instant: Date | string, timeZone: string) => wallClock(instant, timeZone);

/** 24/11/2026 */
export function formatDate(instant: Date | string, timeZone = 'Asia/Ho_Chi_Minh'): string {
  const p = parts(instant, timeZone);
  return `${p.day}/${p.month}/${p.year}`;
}

/** A booking's 8-digit code as people read and type it: "1234 5678" (while typed: "1234 5"). */
export const formatBookingCode = (code: string) => code.replace(/^(\d{4})(\d{1,4})$/, '$1 $2');

/** 09:05 */
export function formatTime(instant: Date | string, timeZone = 'Asia/Ho_Chi_Minh', seconds = false): string {
  const p = parts(instant, timeZone);
  return seconds ? `${p.hour}:${p.minute}:${p.second}` : `${p.hour}:${p.minute}`;
}

/** 24/11/2026 09:05 */
export const formatDateTime = (instant: Date | string, timeZone = 'Asia/Ho_Chi_Minh') =>
  `${formatDate(instant, timeZone)} ${formatTime(instant, timeZone)}`;

/** A wait as people say it: "~12 phút" / "~12 min"; under a minute reads "< 1 phút". */
export function formatWait(seconds: number | null | undefined, lang: Lang = 'vi'): string {
  if (seconds === null || seconds === undefined) return lang === 'vi' ? 'chưa rõ' : 'unknown';
  if (seconds < 60) return lang === 'vi' ? '< 1 phút' : '< 1 min';
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return lang === 'vi' ? `~${minutes} phút` : `~${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return lang === 'vi' ? `~${h} giờ ${pad(m)} phút` : `~${h} h ${pad(m)} min`;
}

/**
 * An estimate as the citizen screens and the monitor write it. When no counter serving the
 * service is open (`noCounterOpen`), "under a minute" would be a false promise: it reads "No
 * counter is serving yet", and a longer estimate follows as what it is, a lower bound.
 */
export function formatEstimate(seconds: number | null | undefined, noCounterOpen: boolean | undefined, lang: Lang = 'vi'): string {
  if (!noCounterOpen) return formatWait(seconds, lang);
  const none = lang === 'vi' ? 'Chưa có quầy phục vụ' : 'No counter is serving yet';
  if (seconds === null || seconds === undefined || seconds < 60) return none;
  return `${none} · ${lang === 'vi' ? 'ít nhất' : 'at least'} ${formatWait(seconds, lang)}`;
}

/** 75 -> "1:15", 3725 -> "1:02:05" (elapsed times on counter and manager screens) */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}
