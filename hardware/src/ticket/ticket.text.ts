import { wallClock } from '@qms/protocol/calendar';

export type TicketPrintData = {
  centreName: string;
  serviceName: { vi: string; en: string };
  /** e.g. "A023" */
  code: string;
  peopleAhead: number;
  /** null while the service has no recent service times to estimate from */
  estimatedWaitSeconds: number | null;
  /** no counter serving the service was open or paused: the wait reads so, the estimate as a lower bound */
  noCounterOpen?: boolean;
  issuedAt: Date;
  /** IANA zone of the site; Asia/Ho_Chi_Minh when absent */
  timeZone?: string;
  /** the phone page that follows this ticket, printed as a QR code */
  url: string;
  priorityLabel?: { vi: string; en: string };
  /** the procedure the citizen found at the kiosk (its national code and name) */
  procedure?: { code: string; name: { vi: string; en: string } };
  /** a ticket from a booking ('slot', its start) or taken from away ('remote'), checked in at the kiosk */
  booking?: { kind: 'slot' | 'remote'; slotAt: Date };
};

export const DEFAULT_TIME_ZONE = 'Asia/Ho_Chi_Minh';

/** Every string printed on a ticket, so wording is testable without pixels. */
export type TicketTexts = {
  centreName: string;
  serviceName: string;
  /** "Thủ tục 1.001193: Đăng ký khai sinh", when the ticket was taken for a procedure */
  procedure: string | null;
  numberLabel: string;
  code: string;
  priority: string | null;
  /** "ĐẶT LỊCH 09:00 / BOOKED", "LẤY SỐ TỪ XA / REMOTE": staff see at a glance the ticket came from a booking */
  booking: string | null;
  peopleAheadLabel: string;
  peopleAhead: string;
  waitLabel: string;
  wait: string;
  issuedLabel: string;
  issuedAt: string;
  qrCaption: string;
  english: string;
};

/** dd/MM/yyyy HH:mm in the site's zone, whatever the zone of the machine that prints. */
export function formatIssuedAt(date: Date, timeZone = DEFAULT_TIME_ZONE): string {
  const w = wallClock(date, timeZone);
  return `${w.day}/${w.month}/${w.year} ${w.hour}:${w.minute}`;
}

const viNumber = new Intl.NumberFormat('vi-VN');
const enNumber = new Intl.NumberFormat('en-GB');

export function formatWait(seconds: number | null, lang: 'vi' | 'en'): string | null {
  if (seconds === null || !Number.isFinite(seconds)) return null;
  const minutes = Math.round(Math.max(0, seconds) / 60);
  // No-break spaces keep a number with its unit when the line wraps ("~12" / "min" reads badly).
  const nb = '\u00a0';
  if (minutes < 1) return lang === 'vi' ? `dưới${nb}1${nb}phút` : `under${nb}1${nb}min`;
  if (minutes < 60) return lang === 'vi' ? `~${minutes}${nb}phút` : `~${minutes}${nb}min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (lang === 'vi') return m === 0 ? `~${h}${nb}giờ` : `~${h}${nb}giờ ${m}${nb}phút`;
  return m === 0 ? `~${h}${nb}h` : `~${h}${nb}h ${m}${nb}min`;
}

// Names typed on a Windows machine often arrive decomposed (base letter + combining marks);
// the font's precomposed glyphs place stacked Vietnamese marks correctly, so compose first.
function clean(text: string): string {
  return text.normalize('NFC').replace(/\s+/g, ' ').trim();
}

export function ticketTexts(data: TicketPrintData): TicketTexts {
  const code = clean(data.code);
  let waitVi = formatWait(data.estimatedWaitSeconds, 'vi');
  let waitEn = formatWait(data.estimatedWaitSeconds, 'en');
  if (data.noCounterOpen) {
    // "under a minute" would be a false promise while nobody serves; a longer estimate is a lower bound
    const some = data.estimatedWaitSeconds !== null && data.estimatedWaitSeconds >= 60;
    waitVi = `Chưa có quầy phục vụ${some ? ` · ít\u00a0nhất ${waitVi}` : ''}`;
    waitEn = `no counter is serving\u00a0yet${some ? `, at\u00a0least ${waitEn}` : ''}`;
  }
  const ahead = Math.max(0, Math.trunc(data.peopleAhead));
  const timeZone = data.timeZone ?? DEFAULT_TIME_ZONE;
  const slot = data.booking ? formatIssuedAt(data.booking.slotAt, timeZone).slice(-5) : '';
  const english = [
    `Ticket ${code}`,
    clean(data.serviceName.en),
    data.procedure ? `procedure ${clean(data.procedure.code)}` : null,
    data.priorityLabel ? `priority: ${clean(data.priorityLabel.en)}` : null,
    data.booking ? (data.booking.kind === 'slot' ? `booked\u00a0${slot}` : 'remote ticket') : null,
    `${enNumber.format(ahead)}\u00a0ahead`,
    waitEn ?? 'wait not yet known',
    'scan to follow your\u00a0turn',
  ]
    .filter((part): part is string => part !== null && part !== '')
    // the dot sticks to the part before it, so a wrapped line never starts with one
    .join('\u00a0· ');
  return {
    centreName: clean(data.centreName),
    serviceName: clean(data.serviceName.vi),
    procedure: data.procedure ? `Thủ tục ${clean(data.procedure.code)}: ${clean(data.procedure.name.vi)}` : null,
    numberLabel: 'Số thứ tự',
    code,
    priority: data.priorityLabel ? `Ưu tiên: ${clean(data.priorityLabel.vi)}` : null,
    booking: data.booking ? (data.booking.kind === 'slot' ? `ĐẶT LỊCH ${slot} / BOOKED` : 'LẤY SỐ TỪ XA / REMOTE') : null,
    peopleAheadLabel: 'Số người đang chờ trước bạn:',
    peopleAhead: viNumber.format(ahead),
    waitLabel: 'Thời gian chờ dự kiến:',
    wait: waitVi ?? 'chưa xác định',
    issuedLabel: 'Lấy số lúc:',
    issuedAt: formatIssuedAt(data.issuedAt, timeZone),
    qrCaption: 'Quét mã QR để theo dõi lượt của bạn',
    english,
  };
}
