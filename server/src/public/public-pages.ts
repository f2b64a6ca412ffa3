import type { PublicCentre, PublicProcedure, PublicService } from '@qms/protocol';
import { formatEstimate, formatNumber, formatTime } from '@qms/ui-shared/format';
import { fill, TEXT, type Lang, type TextKey } from './client/public-text.ts';
import type { PageData } from './client/public-page.ts';
import { qrSvg } from './qr.ts';

// The centre's public pages (docs/public-page.md), rendered by the server as the phone page is
// (routes/phone.routes.ts): one small HTML page each, phone first, no framework, with the one
// small script of client/public-page.ts for what moves (live figures, the booking steps, a
// booking's actions). Every phrase comes from client/public-text.ts, in both languages.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (value: unknown) => String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
/** JSON inside <script>: nothing in it can close the element or start a comment. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

/** 2026-12-07 → 07/12/2026 */
export const localDay = (day: string) => `${day.slice(8, 10)}/${day.slice(5, 7)}/${day.slice(0, 4)}`;

const STYLE = `
*{box-sizing:border-box}html{-webkit-text-size-adjust:100%}
body{margin:0;font:17px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;background:#eef1f5;color:#111}
header{display:flex;align-items:center;gap:12px;padding:10px 16px;background:#0b3d91;color:#fff}
header .site{flex:1;font-size:15px;font-weight:600;color:#fff;text-decoration:none}
#lang{background:#fff;color:#0b3d91;border-radius:10px;padding:8px 14px;font-weight:700;text-decoration:none;white-space:nowrap}
main{max-width:560px;margin:0 auto;padding:14px}
h1{font-size:24px;margin:4px 0 12px;line-height:1.25}h2{font-size:19px;margin:0 0 8px}
.card{background:#fff;border-radius:14px;padding:16px;margin:0 0 12px;box-shadow:0 1px 3px #0002}
.badge{display:inline-block;padding:3px 10px;border-radius:999px;font-weight:700;font-size:15px}
.open{background:#dcfce7;color:#0a5c25}.shut{background:#fee2e2;color:#9b1c1c}
.muted{color:#555;font-size:15px}.small{font-size:14px;color:#555}
.btn{display:block;width:100%;margin:8px 0 0;padding:13px 14px;border-radius:12px;border:2px solid #0b3d91;background:#0b3d91;color:#fff;
 font:inherit;font-weight:700;text-align:center;text-decoration:none;cursor:pointer;min-height:50px}
.btn.alt{background:#fff;color:#0b3d91}.btn.warn{background:#fff;color:#9b1c1c;border-color:#9b1c1c}
.btn[disabled]{opacity:.5}
.acts{display:grid;grid-template-columns:1fr 1fr;gap:8px}.acts .btn{margin:0}
.svc h2{margin-bottom:6px}.figs{display:flex;gap:8px;margin:0 0 8px}
.fig{flex:1;background:#f1f5f9;border-radius:10px;padding:8px;text-align:center}.fig b{display:block;font-size:22px}
.etarow{margin:0 0 8px;display:flex;justify-content:space-between;align-items:baseline;gap:10px;background:#f1f5f9;border-radius:10px;padding:8px 10px}
.etarow .eta{font-size:19px;text-align:right}.etarow .eta.none{font-size:15px;color:#9a3412}
ul.procs{list-style:none;margin:0;padding:0}ul.procs li{border-top:1px solid #e3e6ea}
ul.procs a{display:flex;justify-content:space-between;gap:10px;padding:10px 2px;color:#0b3d91;text-decoration:none}
ul.procs a span.c{color:#555;font-size:14px;white-space:nowrap}
table.hours{width:100%;border-collapse:collapse}table.hours td{padding:5px 0;border-bottom:1px solid #e3e6ea;vertical-align:top}
table.hours td+td{text-align:right}table.hours tr.today td{font-weight:700}
ol,ul{padding-left:22px;margin:4px 0}li{margin:4px 0}
dl{margin:0}dt{color:#555;font-size:15px;margin-top:10px}dd{margin:0;font-weight:600}
.qrbox{text-align:center}.qrbox svg{width:220px;height:220px}
.foot{text-align:center;color:#555;font-size:14px}.err{color:#b00020;font-weight:600}.ok{color:#0a7a2f;font-weight:700}
label{display:block;margin:10px 0 4px;font-weight:600}
input[type=tel],input[type=email],input[type=text],select{display:block;width:100%;padding:11px;font:inherit;font-size:19px;border:2px solid #94a3b8;border-radius:10px;background:#fff}
.choices{display:grid;grid-template-columns:1fr 1fr;gap:8px}.choices.one{grid-template-columns:1fr}
.choice{padding:12px 8px;border:2px solid #0b3d91;border-radius:12px;background:#fff;color:#0b3d91;font:inherit;font-weight:700;cursor:pointer;min-height:50px}
.choice.on{background:#0b3d91;color:#fff}.choice small{display:block;font-weight:400;font-size:13px}
.consent p{margin:6px 0;font-size:14px}.check{display:flex;gap:10px;align-items:center;font-weight:700}.check input{width:26px;height:26px}
.bigcode{font-size:44px;font-weight:800;letter-spacing:3px;color:#0b3d91;margin:0;text-align:center;font-variant-numeric:tabular-nums}
.otp{font-size:30px!important;letter-spacing:8px;text-align:center}
`;

interface Layout {
  lang: Lang;
  nonce: string;
  title: string;
  site: { name: string; href: string } | null;
  /** the address of this page in the other language */
  other: string;
  body: string;
  data?: PageData;
  script?: string;
  style?: string;
}

function layout(p: Layout): string {
  const t = TEXT[p.lang];
  const site = p.site ? `<a class="site" href="${escapeHtml(p.site.href)}">${escapeHtml(p.site.name)}</a>` : '<span class="site"></span>';
  return `<!doctype html>
<html lang="${p.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="/favicon.svg" type="image/svg+xml"><title>${escapeHtml(p.title)}</title>
<style nonce="${p.nonce}">${STYLE}${p.style ?? ''}</style></head>
<body>
<header>${site}<a id="lang" href="${escapeHtml(p.other)}" hreflang="${p.lang === 'vi' ? 'en' : 'vi'}">${escapeHtml(t.toggle)}</a></header>
<main>
${p.body}
</main>
${p.data && p.script !== undefined ? `<script nonce="${p.nonce}">var D=${scriptJson(p.data)};${p.script}</script>` : ''}
</body></html>`;
}

/** The page's address with `lang` set to the other language (what the switch opens). */
export function otherLang(path: string, query: Record<string, unknown>, lang: Lang): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (key !== 'lang' && typeof value === 'string') params.set(key, value);
  params.set('lang', lang === 'vi' ? 'en' : 'vi');
  return `${path}?${params}`;
}

/** ISO weekdays, as the opening hours: Monday = 1 … Sunday = 7 */
const WEEK = [1, 2, 3, 4, 5, 6, 7];

function sessions(c: Pick<PublicCentre, 'hours'>, weekday: number, lang: Lang): string {
  const list = c.hours.filter((h) => h.weekday === weekday).map((h) => `${h.opens}–${h.closes}`);
  return list.length ? list.join(', ') : TEXT[lang].closed;
}

/** The week's opening hours (today in bold), Monday first. */
function hoursTable(c: PublicCentre, lang: Lang, todayWeekday: number): string {
  const names = TEXT[lang].weekdays.split('|');
  const always = c.hours.length === 0;
  return `<table class="hours">${WEEK.map((d) => `<tr${d === todayWeekday ? ' class="today"' : ''}><td>${escapeHtml(names[d - 1])}</td><td>${
    escapeHtml(always ? '00:00–24:00' : sessions(c, d, lang))}</td></tr>`).join('')}</table>`;
}

export function estimateText(s: Pick<PublicService, 'estimatedWaitSeconds' | 'openCounters'>, lang: Lang): string {
  return formatEstimate(s.estimatedWaitSeconds, s.openCounters === 0, lang);
}

export interface CentreView {
  centre: PublicCentre;
  lang: Lang;
  nonce: string;
  now: Date;
  todayWeekday: number;
  path: string;
  query: Record<string, unknown>;
  script: string;
}

const canBook = (c: PublicCentre) => c.bookings.enabled && (c.contacts.phone || c.contacts.email) && c.services.some((s) => s.bookable);
const canTakeRemote = (c: PublicCentre) => c.bookings.remoteEnabled && (c.contacts.phone || c.contacts.email);

/** /c/:siteCode/ — the centre. */
export function centrePage(v: CentreView): string {
  const { centre: c, lang } = v;
  const t = TEXT[lang];
  const base = `/c/${encodeURIComponent(c.code)}`;
  const today = sessions(c, v.todayWeekday, lang);
  const actions = [
    canBook(c) ? `<a class="btn" id="go-book" href="${base}/book">${escapeHtml(t.book)}</a>` : '',
    // a number for today: only while the centre is open
    canTakeRemote(c) && c.openNow ? `<a class="btn alt" id="go-now" href="${base}/now">${escapeHtml(t.now)}</a>` : '',
  ].filter(Boolean);
  const services = c.services.map((s) => `<section class="card svc" data-svc="${escapeHtml(s.id)}" id="svc-${escapeHtml(s.code)}">
<h2>${escapeHtml(s.name[lang])}</h2>
<div class="figs"><div class="fig"><span class="small">${escapeHtml(t.waiting)}</span><b class="w">${escapeHtml(formatNumber(s.waiting, lang))}</b></div>
<div class="fig"><span class="small">${escapeHtml(t.counters)}</span><b class="oc">${escapeHtml(formatNumber(s.openCounters, lang))}</b></div></div>
<p class="etarow"><span class="small">${escapeHtml(t.eta)}</span> <b class="eta${s.openCounters === 0 ? ' none' : ''}">${escapeHtml(estimateText(s, lang))}</b></p>
${s.procedures.length ? `<ul class="procs">${s.procedures.map((p) => `<li><a href="${base}/p/${encodeURIComponent(p.code)}"><span>${escapeHtml(p.name[lang])}</span><span class="c">${escapeHtml(p.code)}</span></a></li>`).join('')}</ul>`
    : `<p class="muted">${escapeHtml(t.noProcedures)}</p>`}
${s.bookable && canBook(c) ? `<a class="btn alt" href="${base}/book?service=${encodeURIComponent(s.id)}">${escapeHtml(t.book)}</a>` : ''}
</section>`).join('\n');
  const holidays = c.holidays.length
    ? `<section class="card"><h2>${escapeHtml(t.holidays)}</h2><table class="hours">${c.holidays.map((h) => `<tr><td>${escapeHtml(localDay(h.date))}</td><td>${escapeHtml(h.name)}</td></tr>`).join('')}</table></section>`
    : '';
  const body = `<h1>${escapeHtml(c.name)}</h1>
<section class="card" id="today"><span class="badge ${c.openNow ? 'open' : 'shut'}" id="open">${escapeHtml(c.openNow ? t.openNow : t.closedNow)}</span>
<p>${escapeHtml(t.todayHours)}: <b id="today-hours">${escapeHtml(c.hours.length ? today : '00:00–24:00')}</b></p>
${actions.length ? `<div class="${actions.length === 2 ? 'acts' : ''}">${actions.join('')}</div>` : ''}</section>
<h2>${escapeHtml(t.fields)}</h2>
${services}
<section class="card" id="week"><h2>${escapeHtml(t.hours)}</h2>${hoursTable(c, lang, v.todayWeekday)}</section>
${holidays}
<p class="foot"><span id="net" class="err" hidden>${escapeHtml(t.offline)}</span><br>${escapeHtml(t.updated)} <span id="at">${escapeHtml(formatTime(v.now, c.timezone))}</span><br>${escapeHtml(t.auto)}<br>
<a href="${base}/qr">${escapeHtml(t.qrSheet)}</a></p>`;
  return layout({
    lang, nonce: v.nonce, title: c.name, site: null, other: otherLang(v.path, v.query, lang), body,
    data: { page: 'centre', lang, code: c.code, tz: c.timezone }, script: v.script,
  });
}

export interface ProcedureView {
  centre: PublicCentre;
  service: PublicService;
  procedure: PublicProcedure;
  lang: Lang;
  nonce: string;
  /** this page's absolute address: its QR code's content */
  url: string;
  path: string;
  query: Record<string, unknown>;
}

function processing(p: PublicProcedure, lang: Lang): string | null {
  if (p.info.processingTime) return p.info.processingTime[lang];
  if (p.processingDays === null) return null;
  return p.processingDays === 0 ? TEXT[lang].sameDay : fill(TEXT[lang].days, { n: p.processingDays });
}

/** /c/:siteCode/p/:procedureCode — one procedure. */
export function procedurePage(v: ProcedureView): string {
  const { centre: c, service: s, procedure: p, lang } = v;
  const t = TEXT[lang];
  const base = `/c/${encodeURIComponent(c.code)}`;
  const time = processing(p, lang);
  const list = (tag: 'ol' | 'ul', items: { vi: string; en: string }[] | undefined) =>
    items?.length ? `<${tag}>${items.map((i) => `<li>${escapeHtml(i[lang])}</li>`).join('')}</${tag}>` : '';
  const hasInfo = !!(p.info.steps?.length || p.info.documents?.length || p.info.fees || p.info.url);
  const body = `<h1>${escapeHtml(p.name[lang])}</h1>
<section class="card"><dl>
<dt>${escapeHtml(t.nationalCode)}</dt><dd id="code">${escapeHtml(p.code)}</dd>
<dt>${escapeHtml(t.handledBy)}</dt><dd><a href="${base}/#svc-${escapeHtml(s.code)}">${escapeHtml(s.name[lang])}</a></dd>
${time ? `<dt>${escapeHtml(t.processing)}</dt><dd id="processing">${escapeHtml(time)}</dd>` : ''}
${p.info.fees ? `<dt>${escapeHtml(t.fees)}</dt><dd id="fees">${escapeHtml(p.info.fees[lang])}</dd>` : ''}
</dl></section>
${p.info.documents?.length ? `<section class="card" id="documents"><h2>${escapeHtml(t.documents)}</h2>${list('ul', p.info.documents)}</section>` : ''}
${p.info.steps?.length ? `<section class="card" id="steps"><h2>${escapeHtml(t.steps)}</h2>${list('ol', p.info.steps)}</section>` : ''}
${hasInfo ? '' : `<section class="card"><p class="muted">${escapeHtml(t.noInfo)}</p></section>`}
${p.info.url ? `<a class="btn alt" id="portal" href="${escapeHtml(p.info.url)}" rel="noopener noreferrer">${escapeHtml(t.portal)}</a>` : ''}
${s.bookable && canBook(c) ? `<a class="btn" href="${base}/book?service=${encodeURIComponent(s.id)}&amp;procedure=${encodeURIComponent(p.code)}">${escapeHtml(t.book)}</a>` : ''}
<section class="card qrbox" id="qr">${qrSvg(v.url, `${p.name[lang]} – ${p.code}`)}<p class="small">${escapeHtml(t.scan)}</p></section>
<p class="foot"><a href="${base}/">${escapeHtml(t.back)}</a></p>`;
  return layout({ lang, nonce: v.nonce, title: `${p.name[lang]} – ${c.name}`, site: { name: c.name, href: `${base}/` }, other: otherLang(v.path, v.query, lang), body });
}

const SHEET_STYLE = `
.sheet{display:grid;grid-template-columns:1fr 1fr;gap:10px}
.qcard{background:#fff;border:1px solid #94a3b8;border-radius:10px;padding:10px;text-align:center;break-inside:avoid;page-break-inside:avoid}
.qcard svg{width:100%;max-width:200px;height:auto;aspect-ratio:1}
.qcard .n{font-weight:700;margin:4px 0 0;line-height:1.25}.qcard .e{font-size:13px;color:#444;margin:2px 0}.qcard .k{font-size:15px;margin:2px 0;font-variant-numeric:tabular-nums}
@page{size:A4;margin:10mm}
@media print{
 body{background:#fff}header,.noprint{display:none!important}main{max-width:none;padding:0}
 .sheet{grid-template-columns:repeat(3,1fr);gap:4mm}
 .qcard{height:88mm;border-radius:2mm;padding:3mm;box-shadow:none;display:flex;flex-direction:column;align-items:center;justify-content:center}
 .qcard svg{width:48mm;height:48mm;max-width:none}
 h1{font-size:16pt;margin:0 0 4mm}
}`;

export interface SheetView {
  centre: PublicCentre;
  lang: Lang;
  nonce: string;
  /** the server's public address, for each procedure page's absolute URL */
  baseUrl: string;
  path: string;
  query: Record<string, unknown>;
  script: string;
}

/** /c/:siteCode/qr — every procedure's QR code on A4, one card each, for the notice boards. */
export function qrSheetPage(v: SheetView): string {
  const { centre: c, lang } = v;
  const t = TEXT[lang];
  const base = `/c/${encodeURIComponent(c.code)}`;
  const cards = c.services.flatMap((s) => s.procedures.map((p) => {
    const url = `${v.baseUrl}${base}/p/${encodeURIComponent(p.code)}`;
    // a notice board's card reads Vietnamese first, then English, whichever language printed it
    return `<div class="qcard" data-procedure="${escapeHtml(p.code)}">${qrSvg(url, `${p.name[lang]} – ${p.code}`)}
<p class="n" lang="vi">${escapeHtml(p.name.vi)}</p><p class="e" lang="en">${escapeHtml(p.name.en)}</p><p class="k">${escapeHtml(p.code)} · ${escapeHtml(s.name.vi)}</p></div>`;
  })).join('\n');
  const body = `<h1>${escapeHtml(t.sheetTitle)} – ${escapeHtml(c.name)}</h1>
<div class="noprint"><p class="muted">${escapeHtml(t.sheetHelp)}</p><button class="btn" id="print" type="button">${escapeHtml(t.print)}</button><p></p></div>
<div class="sheet">${cards}</div>`;
  return layout({
    lang, nonce: v.nonce, title: `${t.sheetTitle} – ${c.name}`, site: { name: c.name, href: `${base}/` }, other: otherLang(v.path, v.query, lang), body,
    style: SHEET_STYLE, data: { page: 'sheet', lang, code: c.code, tz: c.timezone }, script: v.script,
  });
}

export interface FlowView {
  centre: PublicCentre;
  mode: 'book' | 'now';
  lang: Lang;
  nonce: string;
  /** the days a slot may be on (centre.service.ts openDays) */
  days: string[];
  service?: string;
  procedure?: string;
  path: string;
  query: Record<string, unknown>;
  script: string;
}

/** /c/:siteCode/book and /c/:siteCode/now — the steps are drawn by the script from the centre. */
export function flowPage(v: FlowView): string {
  const { centre: c, lang } = v;
  const t = TEXT[lang];
  const base = `/c/${encodeURIComponent(c.code)}`;
  const offered = v.mode === 'book' ? canBook(c) : canTakeRemote(c);
  const title = v.mode === 'book' ? t.bookTitle : t.nowTitle;
  const body = `<h1>${escapeHtml(title)}</h1>
${v.mode === 'now' ? `<p class="muted">${escapeHtml(t.nowIntro)}</p>` : ''}
${offered ? `<div id="flow"><noscript><p class="err">JavaScript</p></noscript></div>` : `<section class="card"><p>${escapeHtml(t.noneOffered)}</p></section>`}
<p class="foot"><a href="${base}/">${escapeHtml(t.back)}</a></p>`;
  return layout({
    lang, nonce: v.nonce, title: `${title} – ${c.name}`, site: { name: c.name, href: `${base}/` }, other: otherLang(v.path, v.query, lang), body,
    data: {
      page: v.mode, lang, code: c.code, tz: c.timezone, centre: c, days: v.days,
      ...(v.service ? { service: v.service } : {}), ...(v.procedure ? { procedure: v.procedure } : {}),
    },
    script: v.script,
  });
}

export interface BookingView {
  publicId: string;
  siteName: string;
  siteCode: string;
  timezone: string;
  lang: Lang;
  nonce: string;
  /** this page's absolute address: its QR code's content, which the kiosk's scanner reads */
  url: string;
  days: string[];
  /** the names of the centre's procedures, by code */
  procedures: Record<string, { vi: string; en: string }>;
  path: string;
  query: Record<string, unknown>;
  script: string;
}

/** /b/:publicId — a booking; its script fetches it and draws what depends on its status. */
export function bookingPage(v: BookingView): string {
  const t = TEXT[v.lang];
  const base = `/c/${encodeURIComponent(v.siteCode)}`;
  const body = `<h1 id="title">${escapeHtml(t.bookingTitle)}</h1>
<div id="booking"><p class="muted">${escapeHtml(t.loading)}</p></div>
<section class="card qrbox" id="qr">${qrSvg(v.url, `${t.bookingTitle} – ${v.siteName}`)}<p class="small">${escapeHtml(t.showQr)}</p></section>
<div id="actions"></div>
<p class="foot"><a href="${base}/">${escapeHtml(t.back)}</a></p>`;
  return layout({
    lang: v.lang, nonce: v.nonce, title: `${t.bookingTitle} – ${v.siteName}`, site: { name: v.siteName, href: `${base}/` }, other: otherLang(v.path, v.query, v.lang), body,
    data: { page: 'booking', lang: v.lang, code: v.siteCode, tz: v.timezone, id: v.publicId, days: v.days, procedures: v.procedures },
    script: v.script,
  });
}

/** A page for an address that leads nowhere: both languages, no script. */
export function notFoundPage(nonce: string, what: 'centre' | 'procedure' | 'booking', back?: string): string {
  const key: TextKey = what === 'centre' ? 'centreMissing' : what === 'procedure' ? 'procedureMissing' : 'bookingMissing';
  const help = what === 'booking';
  const card = (lang: Lang) => `<section class="card" lang="${lang}"><h2>${escapeHtml(TEXT[lang][key])}</h2>${help ? `<p>${escapeHtml(TEXT[lang].bookingMissingHelp)}</p>` : ''}${
    back ? `<p><a href="${escapeHtml(back)}">${escapeHtml(TEXT[lang].back)}</a></p>` : ''}</section>`;
  return `<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><link rel="icon" href="/favicon.svg" type="image/svg+xml"><title>${escapeHtml(`${TEXT.vi[key]} – ${TEXT.en[key]}`)}</title>
<style nonce="${nonce}">${STYLE}</style></head>
<body><header><span class="site"></span></header><main>${card('vi')}${card('en')}</main></body></html>`;
}
