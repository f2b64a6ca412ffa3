import type { Alert, SiteConfig } from '@qms/protocol';
import { formatTime, formatWait, type Lang } from '@qms/ui-shared/format';

// One line for a manager per alert: what happened, where, to whom.

const PRINTER: Record<string, { vi: string; en: string }> = {
  paper_out: { vi: 'Máy in hết giấy', en: 'Printer out of paper' },
  paper_low: { vi: 'Máy in sắp hết giấy', en: 'Printer paper low' },
  offline: { vi: 'Máy in không phản hồi', en: 'Printer not answering' },
  timeout: { vi: 'Máy in quá chậm', en: 'Printer too slow' },
  error: { vi: 'Máy in gặp lỗi', en: 'Printer error' },
};

const DEVICE: Record<string, { vi: string; en: string }> = {
  kiosk: { vi: 'Máy lấy số', en: 'Kiosk' },
  display: { vi: 'Màn hình', en: 'Display' },
  counter: { vi: 'Thiết bị quầy', en: 'Counter device' },
  rating: { vi: 'Máy đánh giá', en: 'Rating tablet' },
};

const CHANNEL: Record<string, { vi: string; en: string }> = {
  sms: { vi: 'SMS', en: 'SMS' }, email: { vi: 'email', en: 'Email' }, zalo: { vi: 'Zalo', en: 'Zalo' }, webhook: { vi: 'webhook', en: 'Webhook' },
};

/** Alert groups the console shows apart: complaints about people, equipment and channels, waits. */
export const ALERT_GROUPS = {
  complaints: ['criticism', 'low_rating'],
  devices: ['printer', 'device_offline', 'channel_failing', 'webhook_failed'],
  waits: ['wait_over_target'],
} as const;
export type AlertGroup = keyof typeof ALERT_GROUPS;
export const isComplaint = (a: Alert) => (ALERT_GROUPS.complaints as readonly string[]).includes(a.kind);

export function alertTitle(a: Alert, lang: Lang, config?: SiteConfig | null): string {
  const t = (vi: string, en: string) => (lang === 'vi' ? vi : en);
  switch (a.kind) {
    case 'criticism':
      return t('Công dân phản ánh', 'Citizen complaint');
    case 'low_rating': {
      const reason = config?.ratingReasons.find((r) => r.code === a.reason)?.label;
      const why = reason ? (lang === 'vi' ? reason.vi : reason.en || reason.vi) : a.reason;
      return why ? t(`Không hài lòng: ${why}`, `Not satisfied: ${why}`) : t('Không hài lòng', 'Not satisfied');
    }
    case 'printer':
      return (PRINTER[a.reason ?? ''] ?? PRINTER.error!)[lang] + (a.count && a.count > 1 ? ` (×${a.count})` : '');
    case 'wait_over_target':
      return t('Chờ quá thời gian mục tiêu', 'Wait past target');
    case 'device_offline':
      return t('Thiết bị mất kết nối', 'Device offline');
    case 'channel_failing':
      return t(`Kênh ${CHANNEL[a.channel ?? '']?.vi ?? a.channel} gửi không được`, `${CHANNEL[a.channel ?? '']?.en ?? a.channel} channel failing`);
    case 'webhook_failed':
      return t('Webhook gửi không thành công', 'Webhook delivery failed');
    default:
      return a.kind;
  }
}

export function alertDetail(a: Alert, lang: Lang, timeZone = 'Asia/Ho_Chi_Minh'): string {
  const t = (vi: string, en: string) => (lang === 'vi' ? vi : en);
  const parts: string[] = [];
  if (a.kind === 'wait_over_target') {
    if (a.service) parts.push(lang === 'vi' ? a.service.name.vi : a.service.name.en || a.service.name.vi);
    if (a.ticket) parts.push(t(`số ${a.ticket.code} chờ ${formatWait(a.waitSeconds ?? null, lang)}`, `${a.ticket.code} waited ${formatWait(a.waitSeconds ?? null, lang)}`));
    if (a.targetWaitSeconds) parts.push(t(`mục tiêu ${Math.round(a.targetWaitSeconds / 60)} phút`, `target ${Math.round(a.targetWaitSeconds / 60)} min`));
  } else if (a.kind === 'device_offline' || a.kind === 'printer') {
    if (a.device) parts.push(`${DEVICE[a.device.kind]?.[lang] ?? a.device.kind} “${a.device.name}”`);
    if (a.lastSeenAt) parts.push(t(`thấy lần cuối ${formatTime(a.lastSeenAt, timeZone)}`, `last seen ${formatTime(a.lastSeenAt, timeZone)}`));
  } else if (a.kind === 'channel_failing' || a.kind === 'webhook_failed') {
    if (a.reason) parts.push(a.reason);
  } else {
    if (a.counter) parts.push(a.counter.name);
    if (a.staff) parts.push(a.staff.displayName);
    if (a.ticket) parts.push(t(`số ${a.ticket.code}`, `ticket ${a.ticket.code}`));
  }
  return parts.join(' · ');
}

/** criticism and low ratings are about people; the rest about the queue or the hardware */
export const alertTone = (a: Alert) => (a.kind === 'criticism' || a.kind === 'low_rating' ? 'people' : a.kind === 'wait_over_target' ? 'queue' : 'device');
