import type { AuditEntry } from '@qms/protocol';

// What the audit page says of an entry: its action and target in words (Vietnamese first), its
// changes as "field: before → after". Pure functions, no Svelte.

type Text = { vi: string; en: string };

export const ACTION_NAMES: Record<string, Text> = {
  login: { vi: 'Đăng nhập', en: 'Signed in' },
  login_failed: { vi: 'Đăng nhập sai', en: 'Failed sign-in' },
  logout: { vi: 'Đăng xuất', en: 'Signed out' },
  'site.create': { vi: 'Tạo trung tâm', en: 'Site created' },
  'site.update': { vi: 'Sửa thông tin trung tâm', en: 'Site changed' },
  'opening_hours.update': { vi: 'Sửa giờ làm việc', en: 'Opening hours changed' },
  'holidays.update': { vi: 'Sửa ngày nghỉ', en: 'Holidays changed' },
  'rating.update': { vi: 'Sửa thang đánh giá', en: 'Rating scale changed' },
  'announcement.update': { vi: 'Sửa câu gọi số', en: 'Announcement changed' },
  'priority_groups.update': { vi: 'Sửa nhóm ưu tiên', en: 'Priority groups changed' },
  'service.create': { vi: 'Tạo lĩnh vực', en: 'Service created' },
  'service.update': { vi: 'Sửa lĩnh vực', en: 'Service changed' },
  'service.procedures': { vi: 'Sửa thủ tục của lĩnh vực', en: 'Procedures changed' },
  'service.deactivate': { vi: 'Ngừng lĩnh vực', en: 'Service deactivated' },
  'counter.create': { vi: 'Tạo quầy', en: 'Counter created' },
  'counter.update': { vi: 'Sửa quầy', en: 'Counter changed' },
  'counter.deactivate': { vi: 'Ngừng quầy', en: 'Counter deactivated' },
  'staff.create': { vi: 'Tạo tài khoản', en: 'Account created' },
  'user.update': { vi: 'Sửa tên tài khoản', en: 'Account renamed' },
  'user.role': { vi: 'Đổi vai trò', en: 'Role changed' },
  'user.password': { vi: 'Đổi mật khẩu', en: 'Password changed' },
  'user.active': { vi: 'Khoá / mở tài khoản', en: 'Account enabled / disabled' },
  'user.photo.update': { vi: 'Đổi ảnh cán bộ', en: 'Photo changed' },
  'user.photo.remove': { vi: 'Xoá ảnh cán bộ', en: 'Photo removed' },
  'membership.add': { vi: 'Thêm vào trung tâm', en: 'Added to the site' },
  'membership.remove': { vi: 'Bỏ khỏi trung tâm', en: 'Removed from the site' },
  'device.create': { vi: 'Thêm thiết bị', en: 'Device added' },
  'device.update': { vi: 'Đổi tên thiết bị', en: 'Device renamed' },
  'device.pairing_code': { vi: 'Cấp mã ghép nối', en: 'Pairing code issued' },
  'device.paired': { vi: 'Thiết bị ghép nối', en: 'Device paired' },
  'device.revoke': { vi: 'Thu hồi thiết bị', en: 'Device revoked' },
  'device.zone': { vi: 'Sửa vùng hiển thị', en: 'Display zone changed' },
  'printer.update': { vi: 'Sửa máy in', en: 'Printer changed' },
  'notification_settings.update': { vi: 'Sửa cài đặt thông báo', en: 'Notification settings changed' },
  'notification_channel.update': { vi: 'Sửa kênh gửi', en: 'Channel changed' },
  'webhook.create': { vi: 'Thêm webhook', en: 'Webhook added' },
  'webhook.delete': { vi: 'Xoá webhook', en: 'Webhook deleted' },
  'recipient.create': { vi: 'Thêm lãnh đạo nhận tin', en: 'Leader added' },
  'recipient.update': { vi: 'Sửa lãnh đạo nhận tin', en: 'Leader changed' },
  'recipient.delete': { vi: 'Xoá lãnh đạo nhận tin', en: 'Leader removed' },
  'template.update': { vi: 'Sửa mẫu tin', en: 'Template changed' },
  'template.reset': { vi: 'Khôi phục mẫu tin', en: 'Template reset' },
  'integration_key.create': { vi: 'Tạo khoá tích hợp', en: 'Integration key created' },
  'integration_key.delete': { vi: 'Xoá khoá tích hợp', en: 'Integration key deleted' },
  'booking_settings.update': { vi: 'Sửa quy định đặt lịch hẹn', en: 'Booking rules changed' },
  'booking_capacity.update': { vi: 'Sửa sức chứa lịch hẹn', en: 'Booking capacity changed' },
  'procedure.info': { vi: 'Sửa thông tin thủ tục', en: 'Procedure information changed' },
};

/** The filter's choices: families of actions (the API's `action`, comma-separated). */
export const ACTION_GROUPS: { value: string; label: Text }[] = [
  { value: 'login,login_failed,logout', label: { vi: 'Đăng nhập, đăng xuất', en: 'Sign-ins and sign-outs' } },
  { value: 'login_failed', label: { vi: 'Đăng nhập sai', en: 'Failed sign-ins' } },
  { value: 'site.*,opening_hours.*,holidays.*,rating.*,announcement.*,priority_groups.*', label: { vi: 'Cài đặt trung tâm', en: 'Site settings' } },
  { value: 'service.*', label: { vi: 'Lĩnh vực, thủ tục', en: 'Services, procedures' } },
  { value: 'counter.*', label: { vi: 'Quầy', en: 'Counters' } },
  { value: 'staff.*,user.*,membership.*', label: { vi: 'Tài khoản, vai trò', en: 'Accounts, roles' } },
  { value: 'device.*,printer.*', label: { vi: 'Thiết bị, máy in', en: 'Devices, printers' } },
  {
    value: 'notification_settings.*,notification_channel.*,webhook.*,recipient.*,template.*,integration_key.*',
    label: { vi: 'Thông báo, webhook, khoá tích hợp', en: 'Notifications, webhooks, keys' },
  },
  { value: 'booking_settings.*,booking_capacity.*,procedure.*', label: { vi: 'Lịch hẹn, thông tin thủ tục', en: 'Appointments, procedure information' } },
];

export const TARGET_NAMES: Record<string, Text> = {
  user: { vi: 'Tài khoản', en: 'Account' },
  site: { vi: 'Trung tâm', en: 'Site' },
  service: { vi: 'Lĩnh vực', en: 'Service' },
  counter: { vi: 'Quầy', en: 'Counter' },
  device: { vi: 'Thiết bị', en: 'Device' },
  webhook: { vi: 'Webhook', en: 'Webhook' },
  recipient: { vi: 'Lãnh đạo', en: 'Leader' },
  template: { vi: 'Mẫu tin', en: 'Template' },
  notification_channel: { vi: 'Kênh gửi', en: 'Channel' },
  integration_key: { vi: 'Khoá tích hợp', en: 'Integration key' },
  procedure: { vi: 'Thủ tục', en: 'Procedure' },
};

export const ACTOR_KINDS: Record<AuditEntry['actor']['kind'], Text> = {
  user: { vi: 'Tài khoản', en: 'Account' },
  device: { vi: 'Thiết bị', en: 'Device' },
  integration: { vi: 'Tích hợp', en: 'Integration' },
  system: { vi: 'Hệ thống', en: 'System' },
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSecret = (v: unknown) => isObject(v) && Object.keys(v).length === 1 && v.changed === true;
const isFromTo = (v: unknown): v is { from: unknown; to: unknown } => isObject(v) && 'to' in v && Object.keys(v).every((k) => k === 'from' || k === 'to');

type Localized = { vi: string; en: string };
const isLocalized = (v: unknown): v is Localized => isObject(v) && Object.keys(v).length === 2 && typeof v.vi === 'string' && typeof v.en === 'string';
const bilingual = (v: Localized) => (v.en && v.en !== v.vi ? `${v.vi} / ${v.en}` : v.vi);

/** A value in a line of text: strings as they are, the rest as compact JSON, cut at `max` characters. */
export function valueText(value: unknown, max = 140): string {
  const text = value === null || value === undefined ? '∅' : typeof value === 'string' ? (value === '' ? '""' : value) : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export interface ChangeLine {
  field: string;
  /** "before → after", the value given, or the words for a secret that changed */
  text: string;
  /** the whole of it (the line may be cut) */
  full: string;
}

/** An entry's changes as lines; a secret (or password) reads "changed", never a value. */
export function changeLines(changes: Record<string, unknown>, changed: string): ChangeLine[] {
  return Object.entries(changes).flatMap(([field, v]): ChangeLine[] => {
    if (isSecret(v)) return [{ field, text: changed, full: changed }];
    if (isObject(v) && Object.keys(v).length && Object.values(v).every(isSecret)) {
      const names = Object.keys(v).join(', ');
      return [{ field, text: `${names}: ${changed}`, full: `${names}: ${changed}` }];
    }
    if (isFromTo(v)) {
      // a name in two languages: the language that changed (both when both did)
      const [from, to] = isLocalized(v.from) && isLocalized(v.to)
        ? v.from.en === v.to.en ? [v.from.vi, v.to.vi] : v.from.vi === v.to.vi ? [v.from.en, v.to.en] : [bilingual(v.from), bilingual(v.to)]
        : [v.from, v.to];
      return [{ field, text: `${valueText(from, 60)} → ${valueText(to, 60)}`, full: `${valueText(from, 10_000)} → ${valueText(to, 10_000)}` }];
    }
    if (isLocalized(v)) return [{ field, text: valueText(bilingual(v)), full: bilingual(v) }];
    return [{ field, text: valueText(v), full: valueText(v, 10_000) }];
  });
}
