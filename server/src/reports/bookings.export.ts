import type { BookingReport } from '@qms/protocol';
import { csvLine } from './csv.ts';
import type { Lang } from './report.exports.ts';
import { writeXlsx, type XlsxCell, type XlsxValue } from './xlsx.ts';

// The bookings report as files: the XLSX has the indicators, tickets by kind, slot use per field
// and hour, and the definitions (README.md in short), in Vietnamese or English; the CSV is one
// long table for programs (section, key, hour, figure, value: counts, shares 0..1, seconds).

type Text = { vi: string; en: string };
const t = (text: Text, lang: Lang) => text[lang];

export const BOOKING_DEFINITIONS: { term: Text; text: Text }[] = [
  {
    term: { vi: 'Loại phiếu', en: 'Ticket kinds' },
    text: {
      vi: 'Phiếu lấy số trong kỳ (theo thời điểm lấy số): vãng lai (không đặt hẹn), đặt hẹn (phát khi check-in đúng giờ hẹn), số từ xa. Thời gian chờ = lần gọi đầu tiên − lúc lấy số (check-in), trên các phiếu đã được gọi. Người check-in quá muộn nhận phiếu vãng lai.',
      en: 'Tickets issued in the period: walk-in (no booking), booked (issued at an on-time check-in), remote. Wait = first call − issue (the check-in), over tickets called. A check-in too late gets a walk-in ticket.',
    },
  },
  {
    term: { vi: 'Lịch hẹn đã xác nhận', en: 'Confirmed bookings' },
    text: {
      vi: 'Lịch hẹn có giờ hẹn trong kỳ, đã được xác nhận (lịch chưa xác nhận không bao giờ được tính; lịch huỷ trước khi xác nhận cũng không). Tỷ lệ không đến = không đến / (đã check-in + không đến).',
      en: 'Slot bookings whose slot is in the period, once confirmed (unconfirmed ones never count, nor those cancelled before confirmation). No-show rate = missed / (checked in + missed).',
    },
  },
  {
    term: { vi: 'Số từ xa', en: 'Remote tickets' },
    text: {
      vi: 'Số lấy từ xa trong kỳ (theo lúc lấy), tính riêng: đã check-in, quá hạn (không đến trong khung giờ), đã huỷ.',
      en: 'Remote tickets taken in the period (by when taken), counted apart: checked in, lapsed (did not arrive in the window), cancelled.',
    },
  },
  {
    term: { vi: 'Đúng giờ hẹn', en: 'Punctuality' },
    text: {
      vi: 'Phiếu đặt hẹn có giờ hẹn trong kỳ, đã được gọi: trễ = max(0, lần gọi đầu − giờ hẹn); đúng giờ khi trễ ≤ X phút. Phiếu được gọi trước giờ hẹn là đúng giờ, trễ 0. Phiếu không được gọi (huỷ, hết ngày) đếm riêng.',
      en: 'Booked tickets whose slot is in the period and that were called: late = max(0, first call − slot); on time when late ≤ X minutes. A ticket called before its slot is on time, late 0. Tickets never called are counted apart.',
    },
  },
  {
    term: { vi: 'Sử dụng khung giờ', en: 'Slot use' },
    text: {
      vi: 'Theo lĩnh vực và giờ địa phương: lịch hẹn giữ chỗ (đã xác nhận, đã check-in, không đến) so với sức chứa hiện tại của các khung giờ trong kỳ, trừ ngày nghỉ.',
      en: 'Per field and local hour: bookings holding a place (confirmed, checked in, missed) against the current capacity of the blocks in the period, holidays excluded.',
    },
  },
];

const KIND_LABEL: Record<string, Text> = {
  walk_in: { vi: 'Vãng lai', en: 'Walk-in' },
  booked: { vi: 'Đặt hẹn', en: 'Booked' },
  remote: { vi: 'Số từ xa', en: 'Remote' },
};

/** The indicators: [section key, figure key, label, value, kind of value]. */
function indicators(r: BookingReport): [string, string, Text, number | null, 'integer' | 'percent' | 'seconds'][] {
  const s = r.slots;
  const x = r.remote;
  const p = r.punctuality;
  return [
    ['slots', 'confirmed', { vi: 'Lịch hẹn đã xác nhận', en: 'Confirmed bookings' }, s.confirmed, 'integer'],
    ['slots', 'pending', { vi: 'Chưa đến giờ / chưa xử lý', en: 'Still pending' }, s.pending, 'integer'],
    ['slots', 'checked_in', { vi: 'Đã check-in', en: 'Checked in' }, s.checkedIn, 'integer'],
    ['slots', 'checked_in_on_time', { vi: 'Check-in đúng hạn', en: 'Checked in on time' }, s.checkedInOnTime, 'integer'],
    ['slots', 'checked_in_late', { vi: 'Check-in muộn (phiếu vãng lai)', en: 'Checked in late (walk-in ticket)' }, s.checkedInLate, 'integer'],
    ['slots', 'missed', { vi: 'Không đến', en: 'Missed' }, s.missed, 'integer'],
    ['slots', 'cancelled', { vi: 'Đã huỷ', en: 'Cancelled' }, s.cancelled, 'integer'],
    ['slots', 'no_show_rate', { vi: 'Tỷ lệ không đến', en: 'No-show rate' }, s.noShowRate, 'percent'],
    ['remote', 'taken', { vi: 'Số từ xa đã lấy', en: 'Remote tickets taken' }, x.taken, 'integer'],
    ['remote', 'pending', { vi: 'Số từ xa chưa xử lý', en: 'Remote still pending' }, x.pending, 'integer'],
    ['remote', 'checked_in', { vi: 'Số từ xa đã check-in', en: 'Remote checked in' }, x.checkedIn, 'integer'],
    ['remote', 'lapsed', { vi: 'Số từ xa quá hạn', en: 'Remote lapsed' }, x.lapsed, 'integer'],
    ['remote', 'cancelled', { vi: 'Số từ xa đã huỷ', en: 'Remote cancelled' }, x.cancelled, 'integer'],
    ['remote', 'lapse_rate', { vi: 'Tỷ lệ quá hạn', en: 'Lapse rate' }, x.lapseRate, 'percent'],
    ['punctuality', 'within_minutes', { vi: 'Ngưỡng đúng giờ (phút)', en: 'On-time threshold (minutes)' }, p.withinMinutes, 'integer'],
    ['punctuality', 'booked', { vi: 'Phiếu đặt hẹn', en: 'Booked tickets' }, p.booked, 'integer'],
    ['punctuality', 'called', { vi: 'Đã được gọi', en: 'Called' }, p.called, 'integer'],
    ['punctuality', 'not_called', { vi: 'Không được gọi', en: 'Never called' }, p.notCalled, 'integer'],
    ['punctuality', 'on_time', { vi: 'Gọi đúng giờ', en: 'Called on time' }, p.onTime, 'integer'],
    ['punctuality', 'called_early', { vi: 'Gọi trước giờ hẹn', en: 'Called before the slot' }, p.calledEarly, 'integer'],
    ['punctuality', 'on_time_share', { vi: 'Tỷ lệ gọi đúng giờ', en: 'On-time share' }, p.onTimeShare, 'percent'],
    ['punctuality', 'late_avg_seconds', { vi: 'Trễ trung bình (giây)', en: 'Mean lateness (s)' }, p.lateAvgSeconds, 'seconds'],
    ['punctuality', 'late_p90_seconds', { vi: 'Trễ P90 (giây)', en: 'Lateness P90 (s)' }, p.lateP90Seconds, 'seconds'],
  ];
}

/** Records: the indicators' rows (what the console counts as the download streams in). */
export function bookingXlsx(r: BookingReport, siteName: string, lang: Lang, at: Date): { rows: number; body: AsyncGenerator<Buffer> } {
  const vi = lang === 'vi';
  const cell = (value: XlsxValue, type: XlsxCell['type']): XlsxCell => ({ value, type });
  const rows: (XlsxValue | XlsxCell)[][] = [
    [vi ? 'Trung tâm' : 'Site', siteName],
    [vi ? 'Kỳ báo cáo' : 'Period', `${r.from} – ${r.to}`],
    ...indicators(r).map(([, , label, value, type]) => [t(label, lang), cell(value, type)]),
  ];
  return {
    rows: rows.length,
    body: writeXlsx([
      { name: vi ? 'Chỉ tiêu' : 'Indicators', columns: [{ header: vi ? 'Chỉ tiêu' : 'Indicator', width: 40 }, { header: vi ? 'Giá trị' : 'Value', width: 36 }], rows },
      {
        name: vi ? 'Theo loại phiếu' : 'By kind',
        columns: [
          { header: vi ? 'Loại' : 'Kind', width: 16 }, { header: vi ? 'Lấy số' : 'Issued', type: 'integer' }, { header: vi ? 'Đã phục vụ' : 'Served', type: 'integer' },
          { header: vi ? 'Được gọi' : 'Called', type: 'integer' }, { header: vi ? 'Chờ TB (giây)' : 'Wait avg (s)', type: 'seconds' }, { header: vi ? 'Chờ P90 (giây)' : 'Wait P90 (s)', type: 'seconds' },
        ],
        rows: r.kinds.map((k) => [t(KIND_LABEL[k.kind]!, lang), k.issued, k.served, k.waits, k.waitAvgSeconds, k.waitP90Seconds]),
      },
      {
        name: vi ? 'Khung giờ' : 'Slot use',
        columns: [
          { header: vi ? 'Lĩnh vực' : 'Field', width: 30 }, { header: vi ? 'Giờ' : 'Hour', type: 'integer' }, { header: vi ? 'Đã đặt' : 'Booked', type: 'integer' },
          { header: vi ? 'Sức chứa' : 'Capacity', type: 'integer' }, { header: vi ? 'Tỷ lệ sử dụng' : 'Use', type: 'percent' },
        ],
        rows: r.slotUse.map((u) => [u.label, u.hour, u.booked, u.capacity, u.useShare]),
      },
      {
        name: 'Định nghĩa – Definitions',
        columns: [
          { header: 'Thuật ngữ', width: 24, type: 'wrap' }, { header: 'Định nghĩa', width: 80, type: 'wrap' },
          { header: 'Term', width: 24, type: 'wrap' }, { header: 'Definition', width: 80, type: 'wrap' },
        ],
        rows: BOOKING_DEFINITIONS.map((d) => [d.term.vi, d.text.vi, d.term.en, d.text.en]),
      },
    ], { date: at }),
  };
}

/** One long table: section, key (kind or field id), label, hour, figure, value. */
export function* bookingCsv(r: BookingReport): Generator<string> {
  yield `\uFEFF${csvLine(['section', 'key', 'label', 'hour', 'figure', 'value'])}`;
  for (const k of r.kinds) {
    for (const [figure, value] of [['issued', k.issued], ['served', k.served], ['waits', k.waits], ['wait_avg_seconds', k.waitAvgSeconds], ['wait_p90_seconds', k.waitP90Seconds]] as const) {
      yield csvLine(['kinds', k.kind, KIND_LABEL[k.kind]!.vi, null, figure, value]);
    }
  }
  for (const [section, figure, label, value] of indicators(r)) yield csvLine([section, '', label.vi, null, figure, value]);
  for (const u of r.slotUse) {
    for (const [figure, value] of [['booked', u.booked], ['capacity', u.capacity], ['use_share', u.useShare]] as const) {
      yield csvLine(['slot_use', u.serviceId, u.label, u.hour, figure, value]);
    }
  }
}

/** How many records the CSV holds after its header (X-Total-Rows). */
export const bookingCsvRecords = (r: BookingReport) => r.kinds.length * 5 + indicators(r).length + r.slotUse.length * 3;
