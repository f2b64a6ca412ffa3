import type { TemplatePurpose } from '@qms/protocol';
import type { MessagePurpose } from './channels/channel.ts';

// What each message says, in Vietnamese and English. A site may reword any of them in the
// console (notification_template); these are the defaults. Placeholders are {name}: each
// purpose has its own, listed below, and a preview names the ones a text uses that it lacks.
// SMS texts are short on purpose: a Vietnamese SMS with its accents is UCS-2, 70 characters a
// segment, so every word costs.

export type Lang = 'vi' | 'en';

interface Wording { subject: string; body: string }

export const PLACEHOLDERS: Record<MessagePurpose, readonly string[]> = {
  ticket_ahead: ['site', 'code', 'ahead', 'service'],
  ticket_called: ['site', 'code', 'counter', 'service'],
  ticket_reminder: ['site', 'code', 'counter'],
  dossier_ready: ['site', 'dossierCode', 'place'],
  leader_complaint: ['site', 'what', 'counter', 'staff', 'comment', 'time'],
  leader_wait: ['site', 'service', 'waitMinutes', 'targetMinutes', 'time'],
  leader_device: ['site', 'device', 'problem', 'time'],
  channel_test: ['site'],
  booking_code: ['site', 'otp', 'minutes'],
  booking_confirmed: ['site', 'service', 'date', 'time', 'code', 'link'],
  booking_reminder: ['site', 'service', 'date', 'time', 'code', 'link'],
  remote_ticket: ['site', 'service', 'time', 'code', 'link'],
};

export const DEFAULT_TEMPLATES: Record<MessagePurpose, Record<Lang, Wording>> = {
  ticket_ahead: {
    vi: { subject: '{site}: sắp đến lượt số {code}', body: '{site}: Số {code} còn {ahead} người phía trước. Mời ông/bà quay lại khu chờ.' },
    en: { subject: '{site}: number {code} is nearly up', body: '{site}: {ahead} people ahead of number {code}. Please return to the waiting area.' },
  },
  ticket_called: {
    vi: { subject: '{site}: mời số {code}', body: '{site}: Mời số {code} đến quầy {counter}.' },
    en: { subject: '{site}: number {code} is called', body: '{site}: Number {code}, please go to counter {counter}.' },
  },
  ticket_reminder: {
    vi: { subject: '{site}: số {code} được gọi lại', body: '{site}: Số {code} đã được gọi lại, mời đến ngay quầy {counter} để không bị bỏ lượt.' },
    en: { subject: '{site}: number {code} called again', body: '{site}: Number {code} was called again: please go to counter {counter} now or your turn will be skipped.' },
  },
  dossier_ready: {
    vi: { subject: '{site}: hồ sơ {dossierCode} đã có kết quả', body: '{site}: Hồ sơ {dossierCode} đã có kết quả. Mời ông/bà đến nhận tại {place}.' },
    en: { subject: '{site}: the result of file {dossierCode} is ready', body: '{site}: The result of file {dossierCode} is ready. Please collect it at {place}.' },
  },
  leader_complaint: {
    vi: { subject: '{site}: {what} tại quầy {counter}', body: '{site} {time}: {what} tại quầy {counter} ({staff}). {comment}' },
    en: { subject: '{site}: {what} at counter {counter}', body: '{site} {time}: {what} at counter {counter} ({staff}). {comment}' },
  },
  leader_wait: {
    vi: { subject: '{site}: chờ quá lâu ở {service}', body: '{site} {time}: {service} có người chờ {waitMinutes} phút (mục tiêu {targetMinutes} phút).' },
    en: { subject: '{site}: long wait at {service}', body: '{site} {time}: someone at {service} has waited {waitMinutes} min (target {targetMinutes} min).' },
  },
  leader_device: {
    vi: { subject: '{site}: thiết bị {device} gặp sự cố', body: '{site} {time}: {device}: {problem}.' },
    en: { subject: '{site}: a fault at {device}', body: '{site} {time}: {device}: {problem}.' },
  },
  channel_test: {
    vi: { subject: '{site}: tin nhắn thử', body: '{site}: Tin nhắn thử của hệ thống xếp hàng. Kênh này hoạt động.' },
    en: { subject: '{site}: test message', body: '{site}: A test message from the queue system. This channel works.' },
  },
  booking_code: {
    vi: { subject: '{site}: mã xác nhận {otp}', body: '{site}: Mã xác nhận của bạn là {otp} (hiệu lực {minutes} phút). Không chia sẻ mã này.' },
    en: { subject: '{site}: your code is {otp}', body: '{site}: Your confirmation code is {otp} (valid {minutes} minutes). Do not share it.' },
  },
  booking_confirmed: {
    vi: { subject: '{site}: đã đặt lịch {time} {date}', body: '{site}: Đã đặt lịch {service} lúc {time} ngày {date}. Mã lịch hẹn {code}. Xem, dời, huỷ: {link}' },
    en: { subject: '{site}: booked for {time} {date}', body: '{site}: Booked: {service} at {time} on {date}. Booking code {code}. View, move, cancel: {link}' },
  },
  booking_reminder: {
    vi: { subject: '{site}: nhắc lịch hẹn {time} {date}', body: '{site}: Nhắc lịch hẹn {service} lúc {time} ngày {date}. Khi đến, quét mã QR hoặc nhập mã {code} tại ki-ốt. {link}' },
    en: { subject: '{site}: reminder, {time} {date}', body: '{site}: Reminder: {service} at {time} on {date}. On arrival, scan your QR code or type {code} at the kiosk. {link}' },
  },
  remote_ticket: {
    vi: { subject: '{site}: mời đến trước {time}', body: '{site}: Bạn đã lấy số {service} từ xa. Mời đến trước {time} và nhập mã {code} tại ki-ốt để vào hàng. {link}' },
    en: { subject: '{site}: please arrive by {time}', body: '{site}: You took a number for {service} from away. Please arrive by {time} and type {code} at the kiosk to join the queue. {link}' },
  },
};

/** Example values for a preview, as a real message would carry them. */
export const SAMPLE_PARAMS: Record<string, string> = {
  site: 'Trung tâm PVHCC', code: 'A012', ahead: '3', service: 'Hộ tịch', counter: '3', dossierCode: '000.00.12.H47-261205-0042',
  place: 'quầy trả kết quả', what: 'Phản ánh', staff: 'Nguyễn Thị Lan', comment: '"Chờ lâu, cán bộ không giải thích"',
  time: '09:42', waitMinutes: '48', targetMinutes: '30', device: 'Ki-ốt sảnh A', problem: 'máy in hết giấy',
  otp: '482913', minutes: '10', date: '07/12/2026', link: 'https://hcc.example.vn/b/Xk3…',
};

export interface Rendered { subject: string; text: string; unknown: string[] }

/** Fills {placeholders}; an unknown one stays as written, and is listed. */
export function render(wording: Wording, purpose: MessagePurpose, params: Record<string, string>): Rendered {
  const known = new Set(PLACEHOLDERS[purpose]);
  const unknown = new Set<string>();
  const fill = (text: string) => text.replace(/\{(\w+)\}/g, (all, name: string) => {
    if (!known.has(name)) {
      unknown.add(name);
      return all;
    }
    return params[name] ?? '';
  }).replace(/[ \t]{2,}/g, ' ').trim();
  return { subject: fill(wording.subject), text: fill(wording.body), unknown: [...unknown] };
}

export const isTemplatePurpose = (purpose: string): purpose is TemplatePurpose => purpose in DEFAULT_TEMPLATES && purpose !== 'channel_test';
