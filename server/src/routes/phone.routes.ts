import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorBody } from '@qms/protocol';
import { formatEstimate, formatNumber, formatTime } from '@qms/ui-shared/format';
import type { PageModel } from '../phone/phone-pages.ts';
import { phoneScript } from '../phone/phone-script.ts';
import type { PageData } from '../phone/client/phone-page.ts';
import { privatePageHeaders } from '../http/page-headers.ts';

// The phone page behind the ticket's QR code (/t/:publicId) and what it posts to. One small
// server-rendered page, no framework: it must open quickly on a cheap phone over 3G. It polls
// the public ticket every 12 s, says "please go to counter N" (and vibrates) when called, then
// asks for a rating of that ticket. The publicId is the only key: unguessable, never an id.

const PublicIdParams = Type.Object({ publicId: Type.String({ minLength: 8, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) }, { additionalProperties: false });
const PhoneRatingBody = Type.Object({
  score: Type.Integer({ minimum: 1, maximum: 10 }),
  reason: Type.Optional(Type.String({ minLength: 1, maxLength: 40, pattern: '^[A-Za-z0-9_.-]+$' })),
}, { additionalProperties: false });
const PUBLIC_ID = /^[A-Za-z0-9_-]{8,64}$/;
/** The page answers its own 404 page for any id (never the API's JSON), so the id is checked in the handler. */
const PageParams = Type.Object({ publicId: Type.String() });
const PageQuery = Type.Object({ lang: Type.Optional(Type.Unknown({ description: 'vi or en; anything else: the language the ticket was taken in' })) });
/** statuses after which nothing changes any more: the page stops polling */
const FINAL = ['done', 'no_show', 'cancelled', 'expired'];

export const phoneRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ratings, phonePages } = app.services;

  /** A citizen rates the ticket on the phone page (extension of API.md): once per ticket, like the tablet. */
  app.post('/api/v1/public/tickets/:publicId/rating', {
    schema: { tags: ['public'], params: PublicIdParams, body: PhoneRatingBody, response: { 201: Type.Unknown(), 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody } },
    config: { rateLimit: app.config.rateLimits ? { max: 20, timeWindow: 60_000 } : false },
  }, async (request, reply) => {
    const { score, reason } = request.body;
    // a tablet still asking about this ticket stops asking; the lowest score's alert reaches
    // managers now, as with the tablet's rating (both are the rating's events)
    const { value: rating } = await ratings.rateByPublicId(request.params.publicId, { score, ...(reason ? { reason } : {}) });
    return reply.code(201).send({ rating: { score: rating.score, reason: rating.reason, createdAt: rating.createdAt } });
  });

  app.get('/t/:publicId', { schema: { hide: true, params: PageParams, querystring: PageQuery } }, async (request, reply) => {
    const { publicId } = request.params;
    const { lang } = request.query;
    // the address is the ticket's key: never handed to another site
    const nonce = privatePageHeaders(reply);
    const model = PUBLIC_ID.test(publicId) ? await phonePages.model(publicId, typeof lang === 'string' ? lang : undefined) : null;
    if (!model) return reply.code(404).send(notFoundPage(nonce));
    return reply.send(ticketPage(model, nonce));
  });
};

// ---- the page ---------------------------------------------------------------------------

/** Every phrase of the page; the script switches language with the same table. */
const TEXT = {
  vi: {
    title: 'Số thứ tự', yourNumber: 'Số thứ tự của bạn', ahead: 'Người đang chờ trước bạn', wait: 'Thời gian chờ dự kiến',
    calledTitle: 'Đến lượt bạn!', goTo: 'Mời bạn đến quầy số', serving: 'Bạn đang được phục vụ tại quầy số',
    done: 'Cảm ơn bạn đã sử dụng dịch vụ.', noShow: 'Số của bạn đã được gọi nhưng bạn không có mặt. Vui lòng liên hệ quầy hướng dẫn.',
    cancelled: 'Số thứ tự này đã được hủy.',
    expired: 'Số thứ tự này đã hết hiệu lực vì ngày làm việc đã kết thúc. Xin mời lấy số mới vào ngày làm việc tiếp theo.', rateQ: 'Bạn đánh giá thế nào về cán bộ đã phục vụ bạn?',
    reasonQ: 'Điều gì làm bạn chưa hài lòng?', send: 'Gửi đánh giá', thanks: 'Cảm ơn bạn đã đánh giá!',
    already: 'Số thứ tự này đã được đánh giá. Cảm ơn bạn!', closed: 'Đã hết thời gian đánh giá số thứ tự này.', failed: 'Chưa gửi được, vui lòng thử lại.',
    offline: 'Mất kết nối, đang thử lại…', updated: 'Cập nhật lúc', auto: 'Trang tự cập nhật, vui lòng giữ trang này mở.',
    vibrate: 'Rung điện thoại khi đến lượt', vibrateOn: 'Điện thoại sẽ rung khi đến lượt bạn.', unknown: 'chưa rõ', toggle: 'English',
    noCounter: 'Chưa có quầy phục vụ', atLeast: 'ít nhất',
    smsOffer: 'Nhận tin nhắn khi sắp đến lượt', smsPhone: 'Số điện thoại di động',
    smsConsent: 'Số điện thoại chỉ được dùng để báo lượt cho số thứ tự này và được xoá khi hết ngày làm việc (Nghị định 13/2023/NĐ-CP).',
    smsAgree: 'Đồng ý và nhận tin', smsSaved: 'Sẽ nhắn tin đến số', smsStop: 'Huỷ nhận tin', smsStopped: 'Đã huỷ, số điện thoại đã được xoá.',
    smsBad: 'Số điện thoại chưa đúng: vui lòng nhập số di động, ví dụ 0912 345 678.',
  },
  en: {
    title: 'Your ticket', yourNumber: 'Your number', ahead: 'People ahead of you', wait: 'Estimated wait',
    calledTitle: 'It is your turn!', goTo: 'Please go to counter', serving: 'You are being served at counter',
    done: 'Thank you for using our services.', noShow: 'Your number was called but you were not there. Please ask at the information desk.',
    cancelled: 'This ticket was cancelled.',
    expired: 'This ticket is no longer valid: the working day has ended. Please take a new number on the next working day.', rateQ: 'How satisfied are you with the official who served you?',
    reasonQ: 'What was not satisfactory?', send: 'Send rating', thanks: 'Thank you for your rating!',
    already: 'This ticket has already been rated. Thank you!', closed: 'The time to rate this ticket has passed.', failed: 'Not sent, please try again.',
    offline: 'Connection lost, retrying…', updated: 'Updated at', auto: 'This page updates itself; keep it open.',
    vibrate: 'Vibrate when it is my turn', vibrateOn: 'Your phone will vibrate when it is your turn.', unknown: 'unknown', toggle: 'Tiếng Việt',
    noCounter: 'No counter is serving yet', atLeast: 'at least',
    smsOffer: 'Get a text when your turn is near', smsPhone: 'Mobile number',
    smsConsent: 'Your number is used only to tell you about this ticket and is erased at the end of the working day (Decree 13/2023/NĐ-CP).',
    smsAgree: 'Agree and get texts', smsSaved: 'We will text', smsStop: 'Stop messages', smsStopped: 'Stopped: your number was erased.',
    smsBad: 'That is not a mobile number: please enter one like 0912 345 678.',
  },
} as const;
type TextKey = keyof (typeof TEXT)['vi'];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (value: unknown) => String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
/** JSON inside <script>: nothing in it can close the element or start a comment. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const STYLE = `
*{box-sizing:border-box}html{-webkit-text-size-adjust:100%}
body{margin:0;font:18px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;background:#eef1f5;color:#111}
header{display:flex;align-items:center;gap:12px;padding:10px 16px;background:#0b3d91;color:#fff}
header .site{flex:1;font-size:15px;font-weight:600}
button{font:inherit;cursor:pointer;border-radius:10px;min-height:48px}
#lang{background:#fff;color:#0b3d91;border:0;padding:6px 14px;font-weight:700}
main{max-width:480px;margin:0 auto;padding:14px}
.card,.st{background:#fff;border-radius:14px;padding:16px;margin:0 0 12px;box-shadow:0 1px 3px #0002}
.card{text-align:center}.lbl{margin:0;color:#444}
.code{margin:0;font-size:72px;line-height:1.1;font-weight:800;letter-spacing:2px;color:#0b3d91}
.svc{margin:4px 0 0;font-size:18px;font-weight:600}
.row{display:flex;justify-content:space-between;align-items:baseline;gap:12px;padding:8px 0;border-bottom:1px solid #e3e6ea}
.row:last-of-type{border:0}.row b{font-size:28px;white-space:nowrap}.row b.none{font-size:20px;white-space:normal;text-align:right;color:#9a3412}
.call{background:#0a7a2f;color:#fff;text-align:center}.call p{margin:6px 0}
.call .big{font-size:26px;font-weight:800}.call b{font-size:64px;display:block;line-height:1.1}
.serv{text-align:center}.serv b{font-size:40px;display:block}
#vib{width:100%;margin-top:10px;background:#fff;border:2px solid #0b3d91;color:#0b3d91;font-weight:600}
.lv{display:block;width:100%;margin:8px 0;padding:12px;background:#fff;border:2px solid #0b3d91;color:#0b3d91;font-weight:700;font-size:20px}
.lv.on{background:#0b3d91;color:#fff}
#send{width:100%;margin-top:8px;background:#0b3d91;color:#fff;border:0;font-weight:700}
.msg{font-weight:700;color:#0a7a2f}.err{color:#b00020;font-weight:600}
.foot{text-align:center;color:#555;font-size:14px}
.sms{margin-top:12px;padding-top:12px;border-top:1px solid #e3e6ea}.sms .sh{margin:0 0 8px;font-weight:700}
.sms label{display:block;color:#444}.sms input{display:block;width:100%;margin-top:4px;padding:10px;font:inherit;font-size:22px;border:2px solid #94a3b8;border-radius:10px}
.sms .small{font-size:14px;color:#555}#smsgo{width:100%;background:#0b3d91;color:#fff;border:0;font-weight:700}
#smsoff{background:#fff;border:2px solid #9a3412;color:#9a3412;font-weight:600;padding:0 14px}
`;

function ticketPage(m: PageModel, nonce: string): string {
  const t = TEXT[m.lang];
  const tx = (key: TextKey, tag = 'span', attrs = '') => `<${tag} data-t="${key}"${attrs}>${escapeHtml(t[key])}</${tag}>`;
  const k = m.ticket;
  const counter = k.counter ? formatNumber(k.counter.number, m.lang) : '';
  const show = (statuses: string[]) => (statuses.includes(k.status) ? '' : ' hidden');
  const waiting = ['waiting', 'transferred'];
  // served, not rated, and its window has passed (by the server's clock): no form any more
  const closed = k.status === 'done' && !m.rated && !k.ratingOpenUntil;
  const service = m.services[k.serviceId];
  const levels = m.scale.map((l, i) => `<button type="button" class="lv" data-i="${i}">${escapeHtml(l.label[m.lang])}</button>`).join('');
  const reasons = m.reasons.map((r, i) => `<button type="button" class="lv" data-r="${i}">${escapeHtml(r.label[m.lang])}</button>`).join('');
  const data: PageData = {
    id: m.publicId, lang: m.lang, tz: m.timezone, t: k, rated: m.rated, services: m.services, scale: m.scale, reasons: m.reasons, text: TEXT,
    sms: m.sms,
  };
  return `<!doctype html>
<html lang="${m.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><link rel="icon" href="/favicon.svg" type="image/svg+xml"><title>${escapeHtml(`${k.code} – ${t.title}`)}</title>
<noscript><meta http-equiv="refresh" content="30"></noscript>
<style nonce="${nonce}">${STYLE}</style></head>
<body>
<header><span class="site">${escapeHtml(m.siteName)}</span><button id="lang" type="button" data-t="toggle">${escapeHtml(t.toggle)}</button></header>
<main>
<section class="card">${tx('yourNumber', 'p', ' class="lbl"')}<p class="code" id="code">${escapeHtml(k.code)}</p><p class="svc" id="svc">${escapeHtml(service?.[m.lang] ?? '')}</p></section>
<section class="st" id="s-waiting"${show(waiting)}>
<div class="row">${tx('ahead')}<b id="pos">${escapeHtml(formatNumber(k.position ?? 0, m.lang))}</b></div>
<div class="row">${tx('wait')}<b id="eta"${k.noCounterOpen ? ' class="none"' : ''}>${escapeHtml(k.estimatedWaitSeconds === undefined ? t.unknown : formatEstimate(k.estimatedWaitSeconds, k.noCounterOpen, m.lang))}</b></div>
<button id="vib" type="button" data-t="vibrate" hidden>${escapeHtml(t.vibrate)}</button>
${m.sms.offered ? smsBlock(m, tx) : ''}
</section>
<section class="st call" id="s-called" role="alert"${show(['called'])}>${tx('calledTitle', 'p', ' class="big"')}<p>${tx('goTo')}<b class="cn">${escapeHtml(counter)}</b></p></section>
<section class="st serv" id="s-serving"${show(['serving'])}><p>${tx('serving')}<b class="cn">${escapeHtml(counter)}</b></p></section>
<section class="st" id="s-done"${show(['done'])}>${tx('done', 'p', ' class="msg"')}
<div id="rate"${m.rated || closed ? ' hidden' : ''}>${tx('rateQ', 'p')}<div id="levels">${levels}</div>
<div id="why" hidden>${tx('reasonQ', 'p')}<div id="reasons">${reasons}</div>${tx('send', 'button', ' type="button" id="send"')}</div>
<p id="rerr" class="err" hidden></p></div>
<p id="rated" class="msg"${m.rated ? '' : ' hidden'} data-t="${m.rated ? 'already' : 'thanks'}">${escapeHtml(m.rated ? t.already : t.thanks)}</p>
${tx('closed', 'p', ` id="closed" class="msg"${closed ? '' : ' hidden'}`)}
</section>
<section class="st" id="s-no_show"${show(['no_show'])}>${tx('noShow', 'p')}</section>
<section class="st" id="s-cancelled"${show(['cancelled'])}>${tx('cancelled', 'p')}</section>
<section class="st" id="s-expired"${show(['expired'])}>${tx('expired', 'p')}</section>
<p class="foot"><span id="net" class="err" data-t="offline" hidden>${escapeHtml(t.offline)}</span><br>${tx('updated')} <span id="at">${escapeHtml(formatTime(m.now, m.timezone))}</span><br>${tx('auto', 'span', ` id="auto"${FINAL.includes(k.status) && !k.ratingOpenUntil ? ' hidden' : ''}`)}</p>
</main>
<script nonce="${nonce}">var D=${scriptJson(data)};${phoneScript()}</script>
</body></html>`;
}

/** Text messages while the ticket waits: a number with consent, or the number given and a way to stop. */
function smsBlock(m: PageModel, tx: (key: TextKey, tag?: string, attrs?: string) => string): string {
  return `<div id="sms" class="sms">
<form id="smsform"${m.sms.phone ? ' hidden' : ''}>${tx('smsOffer', 'p', ' class="sh"')}
<label>${tx('smsPhone')}<input id="tel" type="tel" inputmode="numeric" autocomplete="tel" maxlength="16" placeholder="0912 345 678" required></label>
${tx('smsConsent', 'p', ' class="small"')}${tx('smsAgree', 'button', ' type="submit" id="smsgo"')}<p id="smserr" class="err" hidden></p></form>
<div id="smsset"${m.sms.phone ? '' : ' hidden'}><p>${tx('smsSaved')} <b id="smsphone">${escapeHtml(m.sms.phone ?? '')}</b></p>${tx('smsStop', 'button', ' type="button" id="smsoff"')}<p id="smsofferr" class="err" hidden></p></div>
${tx('smsStopped', 'p', ' id="smsdone" class="msg" hidden')}
</div>`;
}

function notFoundPage(nonce: string): string {
  return `<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><link rel="icon" href="/favicon.svg" type="image/svg+xml"><title>Không tìm thấy số thứ tự – Ticket not found</title>
<style nonce="${nonce}">${STYLE}</style></head>
<body><header><span class="site">Số thứ tự – Ticket</span></header>
<main><section class="card"><p class="svc">Không tìm thấy số thứ tự này</p>
<p>Mã QR có thể đã bị chụp không đầy đủ, hoặc số thứ tự đã hết hạn. Vui lòng quét lại mã trên phiếu, hoặc hỏi quầy hướng dẫn.</p></section>
<section class="card" lang="en"><p class="svc">Ticket not found</p>
<p>The QR code may not have been read completely, or the ticket has expired. Please scan the code on your ticket again, or ask at the information desk.</p></section></main>
</body></html>`;
}
