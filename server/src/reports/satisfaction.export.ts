import { csvLine } from './csv.ts';
import type { DossierFigures, DossierReport } from './dossiers.ts';
import type { Lang } from './report.exports.ts';
import type { SatisfactionFigures, SatisfactionGroupBy, SatisfactionReport, ScaleLevel } from './satisfaction.ts';
import { writeXlsx, type XlsxCell, type XlsxColumn, type XlsxSheet, type XlsxValue } from './xlsx.ts';

// The month's or quarter's file a province reports citizen satisfaction from (Decision
// 766/QĐ-TTg): a sheet of indicators, the satisfaction table per official, counter, field,
// procedure, visits per dossier, and the definitions written out in Vietnamese and English. The
// CSV is one satisfaction table (for programs: field names, shares 0..1, seconds).

type Text = { vi: string; en: string };

export interface PeriodLabel {
  /** 'Tháng 11/2026', 'Quý 4/2026' */
  text: Text;
  /** local first and last day, dd/MM/yyyy */
  first: string;
  last: string;
}

export interface SatisfactionExport {
  siteName: string;
  period: PeriodLabel;
  scale: ScaleLevel[];
  /** the satisfaction report by each grouping */
  by: Record<SatisfactionGroupBy, SatisfactionReport>;
  dossiers: DossierReport;
}

/** What each figure means: the Definitions sheet, the definitions of server/src/reports/README.md in short. */
export const DEFINITIONS: { term: Text; text: Text }[] = [
  {
    term: { vi: 'Kỳ báo cáo', en: 'Period' },
    text: {
      vi: 'Tháng hoặc quý theo giờ địa phương của trung tâm: từ 00:00 ngày đầu tiên đến trước 00:00 ngày đầu tiên của kỳ sau.',
      en: "A month or quarter in the site's local time: from 00:00 of its first day to 00:00 of the next period's first day (excluded).",
    },
  },
  {
    term: { vi: 'Lượt đánh giá', en: 'Ratings' },
    text: {
      vi: 'Đánh giá của công dân cho các phiếu lấy số trong kỳ (tính theo thời điểm lấy số, như báo cáo tổng hợp), mỗi phiếu nhiều nhất một lượt. Lượt đánh giá thuộc về cán bộ và quầy ghi trên đánh giá (người đã gọi phiếu lần cuối và phục vụ), lĩnh vực cuối cùng của phiếu và từng thủ tục ghi trên phiếu.',
      en: 'Ratings of the tickets issued in the period (by issue time, as in the summary), at most one per ticket. A rating belongs to the official and counter stored on it (who made the final call and served), to the ticket\'s final field, and to each procedure recorded on the ticket.',
    },
  },
  {
    term: { vi: 'Tỷ lệ từng mức', en: 'Share of each level' },
    text: {
      vi: 'Số lượt đánh giá ở mức đó chia cho tổng số lượt đánh giá. Các mức là thang đánh giá của trung tâm (mặc định 3 mức: 3 Rất hài lòng, 2 Hài lòng, 1 Không hài lòng).',
      en: "Ratings at that level divided by all ratings. The levels are the site's rating scale (by default 3: 3 Very satisfied, 2 Satisfied, 1 Not satisfied).",
    },
  },
  {
    term: { vi: 'Tỷ lệ hài lòng', en: 'Satisfied share' },
    text: {
      vi: 'Số lượt đánh giá cao hơn mức thấp nhất của thang (với thang mặc định: Rất hài lòng và Hài lòng) chia cho tổng số lượt đánh giá.',
      en: 'Ratings above the lowest level of the scale (with the default scale: Very satisfied and Satisfied) divided by all ratings.',
    },
  },
  {
    term: { vi: 'Điểm trung bình', en: 'Average score' },
    text: { vi: 'Trung bình cộng điểm của các lượt đánh giá.', en: 'The mean score of the ratings.' },
  },
  {
    term: { vi: 'Phản ánh', en: 'Criticisms' },
    text: {
      vi: 'Phản ánh công dân bấm trên máy đánh giá, máy lấy số hoặc cán bộ ghi nhận, tính theo thời điểm phản ánh trong kỳ. Phản ánh thuộc về cán bộ và quầy ghi trên phản ánh; thuộc lĩnh vực và thủ tục chỉ khi gắn với một phiếu. Đánh giá thấp nhất không tính là phản ánh.',
      en: 'Criticisms pressed on a rating tablet or kiosk, or recorded by staff, counted by when they were made. A criticism belongs to the official and counter named on it, and to a field and procedures only when it is tied to a ticket. A lowest rating is not a criticism.',
    },
  },
  {
    term: { vi: 'Tình trạng xử lý', en: 'Handling' },
    text: {
      vi: 'Tình trạng hiện tại của vụ việc: mới (chưa ai nhận), đang xử lý, đã xử lý.',
      en: 'Where the case stands now: new (nobody took it yet), investigating, resolved.',
    },
  },
  {
    term: { vi: 'Thời gian xử lý', en: 'Time to resolution' },
    text: {
      vi: 'Trung vị, trên các phản ánh đã xử lý, của khoảng thời gian từ lúc phản ánh đến lúc chuyển sang "đã xử lý" (lần sau cùng, nếu vụ việc từng được mở lại).',
      en: 'The median, over resolved criticisms, of the time from the criticism to its resolution (the last one, when the case was reopened).',
    },
  },
  {
    term: { vi: 'Hồ sơ', en: 'Dossier' },
    text: {
      vi: 'Một mã hồ sơ tại trung tâm. Một lượt đến của hồ sơ là một phiếu lấy số có ghi mã đó (nộp hoặc trả; một phiếu ghi mã hai lần vẫn là một lượt). Hồ sơ tính vào kỳ có lượt đến đầu tiên; mọi lượt đến của nó đều được tính.',
      en: 'A dossier code at the site. A visit of a dossier is a ticket carrying its code (received or returned; a ticket carrying it twice is one visit). A dossier counts in the period of its first visit; all its visits count.',
    },
  },
  {
    term: { vi: 'Tỷ lệ hồ sơ ≤ 2 lượt', en: 'Dossiers within 2 visits' },
    text: {
      vi: 'Số hồ sơ có không quá 2 lượt đến (một lần nộp, một lần nhận kết quả) chia cho số hồ sơ.',
      en: 'Dossiers with at most two visits (one to submit, one to collect) divided by all dossiers.',
    },
  },
  {
    term: { vi: 'Không ghi thủ tục', en: 'No procedure recorded' },
    text: {
      vi: 'Nhóm các phiếu (hoặc hồ sơ) không ghi thủ tục nào. Một phiếu ghi hai thủ tục được tính ở cả hai thủ tục, nhưng chỉ một lần trong tổng cộng.',
      en: 'The group of tickets (or dossiers) with no procedure recorded. A ticket with two procedures counts in both, and once in the totals.',
    },
  },
];

const t = (text: Text, lang: Lang) => text[lang];
const share = (v: number | null): XlsxCell => ({ value: v, type: 'percent' });
const count = (v: number): XlsxCell => ({ value: v, type: 'integer' });
const number = (v: number | null): XlsxCell => ({ value: v, type: 'number' });
const hours = (seconds: number | null) => (seconds === null ? null : seconds / 3600);

const SHEETS: { groupBy: SatisfactionGroupBy; name: Text; header: Text }[] = [
  { groupBy: 'staff', name: { vi: 'Cán bộ', en: 'Officials' }, header: { vi: 'Cán bộ', en: 'Official' } },
  { groupBy: 'counter', name: { vi: 'Quầy', en: 'Counters' }, header: { vi: 'Quầy', en: 'Counter' } },
  { groupBy: 'service', name: { vi: 'Lĩnh vực', en: 'Fields' }, header: { vi: 'Lĩnh vực', en: 'Field' } },
  { groupBy: 'procedure', name: { vi: 'Thủ tục', en: 'Procedures' }, header: { vi: 'Thủ tục', en: 'Procedure' } },
];

/** The satisfaction table of one grouping: a row per group, then the totals. */
function satisfactionSheet(name: string, header: string, report: SatisfactionReport, scale: ScaleLevel[], lang: Lang, withCode: boolean): XlsxSheet {
  const level = (l: ScaleLevel) => `${t(l.label, lang)} (${l.score})`;
  const columns: XlsxColumn[] = [
    ...(withCode ? [{ header: lang === 'vi' ? 'Mã thủ tục' : 'Procedure code', width: 12 }] : []),
    { header, width: 36 },
    { header: lang === 'vi' ? 'Lượt đánh giá' : 'Ratings', type: 'integer', width: 12 },
    ...scale.map((l): XlsxColumn => ({ header: level(l), type: 'integer', width: Math.max(12, level(l).length + 2) })),
    ...scale.map((l): XlsxColumn => ({ header: `${lang === 'vi' ? 'Tỷ lệ' : 'Share'} ${level(l)}`, type: 'percent', width: Math.max(14, level(l).length + 8) })),
    { header: lang === 'vi' ? 'Tỷ lệ hài lòng' : 'Satisfied', type: 'percent', width: 14 },
    { header: lang === 'vi' ? 'Điểm trung bình' : 'Average score', type: 'number', width: 14 },
    { header: lang === 'vi' ? 'Phản ánh' : 'Criticisms', type: 'integer', width: 10 },
    { header: lang === 'vi' ? 'Mới' : 'New', type: 'integer', width: 8 },
    { header: lang === 'vi' ? 'Đang xử lý' : 'Investigating', type: 'integer', width: 12 },
    { header: lang === 'vi' ? 'Đã xử lý' : 'Resolved', type: 'integer', width: 10 },
    { header: lang === 'vi' ? 'Thời gian xử lý, trung vị (giờ)' : 'Time to resolution, median (h)', type: 'number', width: 18 },
  ];
  const figures = (f: SatisfactionFigures): XlsxValue[] => {
    const of = (score: number) => f.levels.find((l) => l.score === score);
    return [
      f.ratings,
      ...scale.map((l) => of(l.score)?.count ?? 0),
      ...scale.map((l) => of(l.score)?.share ?? null),
      f.satisfiedShare, f.ratingAvg, f.criticisms, f.criticismsNew, f.criticismsInvestigating, f.criticismsResolved,
      hours(f.resolutionP50Seconds),
    ];
  };
  const rows: XlsxValue[][] = [
    ...report.rows.map((r) => [...(withCode ? [r.key] : []), r.label, ...figures(r)]),
    [...(withCode ? [''] : []), lang === 'vi' ? 'Tổng cộng' : 'Total', ...figures(report.totals)],
  ];
  return { name, columns, rows };
}

function dossierSheet(report: DossierReport, lang: Lang): XlsxSheet {
  const vi = lang === 'vi';
  const columns: XlsxColumn[] = [
    { header: vi ? 'Mã thủ tục' : 'Procedure code', width: 12 },
    { header: vi ? 'Thủ tục' : 'Procedure', width: 36 },
    { header: vi ? 'Số hồ sơ' : 'Dossiers', type: 'integer', width: 10 },
    { header: vi ? 'Số lượt đến' : 'Visits', type: 'integer', width: 10 },
    { header: vi ? 'Lượt đến TB mỗi hồ sơ' : 'Visits per dossier (avg)', type: 'number', width: 14 },
    { header: vi ? '1 lượt' : '1 visit', type: 'integer', width: 8 },
    { header: vi ? '2 lượt' : '2 visits', type: 'integer', width: 8 },
    { header: vi ? '3 lượt' : '3 visits', type: 'integer', width: 8 },
    { header: vi ? 'Từ 4 lượt' : '4+ visits', type: 'integer', width: 9 },
    { header: vi ? 'Tỷ lệ ≤ 2 lượt' : 'Within 2 visits', type: 'percent', width: 12 },
  ];
  const figures = (f: DossierFigures): XlsxValue[] => [f.dossiers, f.visits, f.visitsAvg, f.oneVisit, f.twoVisits, f.threeVisits, f.fourOrMoreVisits, f.withinTwoVisitsShare];
  return {
    name: vi ? 'Số lần đi lại' : 'Visits per dossier',
    columns,
    rows: [...report.rows.map((r) => [r.key, r.label, ...figures(r)]), ['', vi ? 'Tổng cộng' : 'Total', ...figures(report.totals)]],
  };
}

/** The indicators: one per row, its value, and what it is out of. */
function indicatorSheet(x: SatisfactionExport, lang: Lang): XlsxSheet & { rows: (XlsxValue | XlsxCell)[][] } {
  const vi = lang === 'vi';
  const s = x.by.site.totals;
  const d = x.dossiers.totals;
  const of = (score: number) => s.levels.find((l) => l.score === score);
  const rows: (XlsxValue | XlsxCell)[][] = [
    [vi ? 'Trung tâm' : 'Site', x.siteName, ''],
    [vi ? 'Kỳ báo cáo' : 'Period', t(x.period.text, lang), `${x.period.first} – ${x.period.last}`],
    [vi ? 'Tổng số lượt đánh giá' : 'Ratings in all', count(s.ratings), vi ? 'lượt' : 'ratings'],
    ...x.scale.map((l) => [`${vi ? 'Số lượt' : 'Ratings'} "${t(l.label, lang)}" (${l.score})`, count(of(l.score)?.count ?? 0), vi ? 'lượt' : 'ratings']),
    ...x.scale.map((l) => [`${vi ? 'Tỷ lệ' : 'Share'} "${t(l.label, lang)}" (${l.score})`, share(of(l.score)?.share ?? null), vi ? 'trên tổng số lượt đánh giá' : 'of all ratings']),
    [vi ? 'Tỷ lệ hài lòng' : 'Satisfied share', share(s.satisfiedShare), vi ? 'các mức trên mức thấp nhất, trên tổng số lượt đánh giá' : 'levels above the lowest, of all ratings'],
    [vi ? 'Điểm đánh giá trung bình' : 'Average score', number(s.ratingAvg), `${Math.min(...x.scale.map((l) => l.score))}–${Math.max(...x.scale.map((l) => l.score))}`],
    [vi ? 'Số phản ánh' : 'Criticisms', count(s.criticisms), vi ? 'phản ánh' : 'criticisms'],
    [vi ? 'Phản ánh mới, chưa xử lý' : 'Criticisms new', count(s.criticismsNew), ''],
    [vi ? 'Phản ánh đang xử lý' : 'Criticisms being investigated', count(s.criticismsInvestigating), ''],
    [vi ? 'Phản ánh đã xử lý' : 'Criticisms resolved', count(s.criticismsResolved), ''],
    [vi ? 'Tỷ lệ phản ánh đã xử lý' : 'Share of criticisms resolved', share(s.criticisms ? s.criticismsResolved / s.criticisms : null), vi ? 'trên số phản ánh' : 'of criticisms'],
    [vi ? 'Thời gian xử lý phản ánh (trung vị)' : 'Time to resolution (median)', number(hours(s.resolutionP50Seconds)), vi ? 'giờ' : 'hours'],
    [vi ? 'Số hồ sơ (lượt đến đầu tiên trong kỳ)' : 'Dossiers (first visit in the period)', count(d.dossiers), vi ? 'hồ sơ' : 'dossiers'],
    [vi ? 'Số lượt đến trung bình mỗi hồ sơ' : 'Visits per dossier (average)', number(d.visitsAvg), vi ? 'lượt' : 'visits'],
    [vi ? 'Tỷ lệ hồ sơ không quá 2 lượt đến' : 'Dossiers within 2 visits', share(d.withinTwoVisitsShare), vi ? 'trên số hồ sơ' : 'of dossiers'],
  ];
  return {
    name: vi ? 'Chỉ tiêu' : 'Indicators',
    columns: [{ header: vi ? 'Chỉ tiêu' : 'Indicator', width: 46 }, { header: vi ? 'Giá trị' : 'Value', width: 16 }, { header: vi ? 'Ghi chú' : 'Note', width: 48 }],
    rows,
  };
}

/**
 * The workbook: indicators, a sheet per grouping, visits per dossier, definitions. `rows`: the
 * indicators' rows, the first sheet's (what the console counts as the download streams in).
 */
export function satisfactionXlsx(x: SatisfactionExport, lang: Lang, at: Date): { rows: number; body: AsyncGenerator<Buffer> } {
  const indicators = indicatorSheet(x, lang);
  return { rows: indicators.rows.length, body: writeXlsx([
    indicators,
    ...SHEETS.map((s) => satisfactionSheet(t(s.name, lang), t(s.header, lang), x.by[s.groupBy], x.scale, lang, s.groupBy === 'procedure')),
    dossierSheet(x.dossiers, lang),
    {
      name: 'Định nghĩa – Definitions',
      columns: [
        { header: 'Thuật ngữ', width: 24, type: 'wrap' }, { header: 'Định nghĩa', width: 80, type: 'wrap' },
        { header: 'Term', width: 24, type: 'wrap' }, { header: 'Definition', width: 80, type: 'wrap' },
      ],
      rows: DEFINITIONS.map((d) => [d.term.vi, d.text.vi, d.term.en, d.text.en]),
    },
  ], { date: at }) };
}

/**
 * CSV of one satisfaction table: field names, counts and shares 0..1 of each level (`count_<score>`,
 * `share_<score>`), seconds; the totals last (key `total`).
 */
export function* satisfactionCsv(report: SatisfactionReport, groupBy: SatisfactionGroupBy): Generator<string> {
  // every level of the scale, and any other score given (the totals list them all)
  const scores = report.totals.levels.map((l) => l.score);
  yield `\uFEFF${csvLine([
    'group_by', 'key', 'label', 'ratings', ...scores.map((s) => `count_${s}`), ...scores.map((s) => `share_${s}`),
    'satisfied_share', 'rating_avg', 'criticisms', 'criticisms_new', 'criticisms_investigating', 'criticisms_resolved', 'resolution_p50_seconds',
  ])}`;
  const line = (key: string, label: string, f: SatisfactionFigures) => {
    const of = (score: number) => f.levels.find((l) => l.score === score);
    return csvLine([
      groupBy, key, label, f.ratings, ...scores.map((s) => of(s)?.count ?? 0), ...scores.map((s) => of(s)?.share ?? null),
      f.satisfiedShare, f.ratingAvg, f.criticisms, f.criticismsNew, f.criticismsInvestigating, f.criticismsResolved, f.resolutionP50Seconds,
    ]);
  };
  for (const r of report.rows) yield line(r.key, r.label, r);
  yield line('total', '', report.totals);
}
