import { DELIVERY_STATUSES, TEMPLATE_PURPOSES, type ChannelView, type NotifyChannel } from '@qms/protocol';

// The fields of each channel's settings as the console asks for them (the server checks them
// with the channel's own schema: server/src/notifications/channels/). Secrets are separate:
// never shown, only said to be set.

export type FieldType = 'text' | 'number' | 'bool' | 'select' | 'json' | 'area';
export interface Field {
  key: string;
  vi: string;
  en: string;
  type: FieldType;
  options?: readonly string[];
  required?: boolean;
  placeholder?: string;
}
export interface Form {
  fields: Field[];
  secrets: { key: string; vi: string; en: string }[];
}

/** What each message is for, as a manager calls it. */
export const PURPOSE_NAMES: Record<(typeof TEMPLATE_PURPOSES)[number], { vi: string; en: string }> = {
  ticket_ahead: { vi: 'Sắp đến lượt (còn N người)', en: 'Nearly your turn (N ahead)' },
  ticket_called: { vi: 'Mời vào quầy', en: 'Called to a counter' },
  ticket_reminder: { vi: 'Nhắc khi gọi lại', en: 'Reminder on a recall' },
  dossier_ready: { vi: 'Hồ sơ có kết quả', en: 'Dossier result ready' },
  leader_complaint: { vi: 'Lãnh đạo: phản ánh', en: 'Leaders: complaint' },
  leader_wait: { vi: 'Lãnh đạo: chờ quá lâu', en: 'Leaders: long wait' },
  leader_device: { vi: 'Lãnh đạo: sự cố thiết bị', en: 'Leaders: device fault' },
  booking_code: { vi: 'Mã xác nhận đặt lịch', en: 'Booking confirmation code' },
  booking_confirmed: { vi: 'Đã đặt lịch', en: 'Booking confirmed' },
  booking_reminder: { vi: 'Nhắc lịch hẹn', en: 'Booking reminder' },
  remote_ticket: { vi: 'Lấy số từ xa', en: 'Remote ticket' },
};

export const CHANNEL_NAMES: Record<'sms' | 'email' | 'zalo' | 'webhook', string> = { sms: 'SMS', email: 'Email', zalo: 'Zalo', webhook: 'Webhook' };

/** A message's status, as the delivery logs show it. */
export const DELIVERY_STATUS: Record<(typeof DELIVERY_STATUSES)[number], { vi: string; en: string }> = {
  pending: { vi: 'Đang gửi / chờ thử lại', en: 'Pending / retrying' },
  sent: { vi: 'Đã gửi', en: 'Sent' },
  failed: { vi: 'Thất bại', en: 'Failed' },
  cancelled: { vi: 'Đã huỷ', en: 'Cancelled' },
};

const encoding: Field = { key: 'encoding', vi: 'Mã hoá', en: 'Encoding', type: 'select', options: ['unaccented', 'ucs2'], required: true };
const price: Field = { key: 'pricePerSegment', vi: 'Giá mỗi tin (đồng)', en: 'Price per segment (VND)', type: 'number' };

export const SMS_PROVIDERS = ['smpp', 'esms', 'http'] as const;
export type SmsProvider = (typeof SMS_PROVIDERS)[number];

export const FORMS: Record<SmsProvider | 'email' | 'zalo', Form> = {
  smpp: {
    fields: [
      { key: 'host', vi: 'Máy chủ SMSC', en: 'SMSC host', type: 'text', required: true },
      { key: 'port', vi: 'Cổng', en: 'Port', type: 'number', required: true, placeholder: '2775' },
      { key: 'systemId', vi: 'System ID', en: 'System ID', type: 'text', required: true },
      { key: 'systemType', vi: 'System type', en: 'System type', type: 'text' },
      { key: 'sourceAddr', vi: 'Tên thương hiệu (brandname)', en: 'Brand name (sender)', type: 'text', required: true, placeholder: 'UBND-QN' },
      encoding, price,
    ],
    secrets: [{ key: 'password', vi: 'Mật khẩu', en: 'Password' }],
  },
  esms: {
    fields: [
      { key: 'apiKey', vi: 'API key', en: 'API key', type: 'text', required: true },
      { key: 'brandname', vi: 'Tên thương hiệu (brandname)', en: 'Brand name', type: 'text', required: true },
      { key: 'smsType', vi: 'Loại tin (2: chăm sóc khách hàng)', en: 'Message type (2: customer care)', type: 'text', placeholder: '2' },
      { key: 'sandbox', vi: 'Chế độ thử (không gửi thật)', en: 'Sandbox (nothing really sent)', type: 'bool' },
      { key: 'baseUrl', vi: 'Địa chỉ API', en: 'API address', type: 'text', placeholder: 'https://rest.esms.vn/MainService.svc/json' },
      encoding, price,
    ],
    secrets: [{ key: 'secretKey', vi: 'Secret key', en: 'Secret key' }],
  },
  http: {
    fields: [
      { key: 'url', vi: 'Địa chỉ gửi (URL)', en: 'URL', type: 'text', required: true },
      { key: 'method', vi: 'Phương thức', en: 'Method', type: 'select', options: ['POST', 'PUT'] },
      { key: 'headers', vi: 'Header (JSON)', en: 'Headers (JSON)', type: 'json', placeholder: '{"content-type": "application/json"}' },
      { key: 'body', vi: 'Nội dung gửi ({{to}}, {{text}}, {{key}}, {{brandname}})', en: 'Body ({{to}}, {{text}}, {{key}}, {{brandname}})', type: 'area', required: true, placeholder: '{"to": {{to}}, "text": {{text}}, "id": {{key}}}' },
      { key: 'brandname', vi: 'Tên thương hiệu', en: 'Brand name', type: 'text' },
      encoding, price,
    ],
    secrets: [{ key: 'authorization', vi: 'Header Authorization', en: 'Authorization header' }],
  },
  email: {
    fields: [
      { key: 'host', vi: 'Máy chủ SMTP', en: 'SMTP host', type: 'text', required: true },
      { key: 'port', vi: 'Cổng', en: 'Port', type: 'number', required: true, placeholder: '587' },
      { key: 'secure', vi: 'TLS ngay từ đầu (cổng 465)', en: 'TLS from the start (port 465)', type: 'bool' },
      { key: 'requireTls', vi: 'Bắt buộc STARTTLS', en: 'Require STARTTLS', type: 'bool' },
      { key: 'user', vi: 'Tài khoản', en: 'User', type: 'text' },
      { key: 'from', vi: 'Người gửi', en: 'From', type: 'text', required: true, placeholder: 'Trung tâm PVHCC <noreply@…>' },
    ],
    secrets: [{ key: 'password', vi: 'Mật khẩu', en: 'Password' }],
  },
  zalo: {
    fields: [
      ...TEMPLATE_PURPOSES.map((p): Field => ({ key: `templates.${p}`, vi: `Mã mẫu ZNS – ${PURPOSE_NAMES[p].vi}`, en: `ZNS template id – ${PURPOSE_NAMES[p].en}`, type: 'text' })),
      { key: 'baseUrl', vi: 'Địa chỉ API', en: 'API address', type: 'text', placeholder: 'https://business.openapi.zalo.me' },
    ],
    secrets: [{ key: 'accessToken', vi: 'Access token', en: 'Access token' }],
  },
};

export const formOf = (kind: NotifyChannel, provider: SmsProvider) => (kind === 'sms' ? FORMS[provider] : FORMS[kind]);

/** The saved settings as the form's text values. */
export function valuesOf(view: ChannelView | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(view?.settings ?? {})) {
    if (k === 'templates' && v && typeof v === 'object') for (const [p, id] of Object.entries(v)) out[`templates.${p}`] = String(id);
    else out[k] = typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}

/** The form's values as settings: numbers, switches and JSON as such, empty optional fields left out. */
export function settingsOf(form: Form, values: Record<string, string>, provider?: SmsProvider): Record<string, unknown> {
  const settings: Record<string, unknown> = provider ? { provider } : {};
  for (const f of form.fields) {
    const raw = (values[f.key] ?? '').trim();
    if (f.type === 'bool') {
      if (raw === 'true') settings[f.key] = true;
      else if (f.key === 'secure') settings[f.key] = false;
      continue;
    }
    if (!raw) continue;
    if (f.key.startsWith('templates.')) {
      const templates = (settings.templates ??= {}) as Record<string, string>;
      templates[f.key.slice('templates.'.length)] = raw;
    } else settings[f.key] = f.type === 'number' ? Number(raw) : f.type === 'json' ? JSON.parse(raw) : raw;
  }
  if (!provider && form === FORMS.zalo) settings.templates ??= {};
  return settings;
}
