import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFixture, bearer, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';

let f: ApiFixture;
const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Hà Nội: the demo centre is open

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now });
});
afterAll(async () => {
  await f?.app.close();
  await f?.t.drop();
});

const api = (method: 'GET' | 'POST', url: string, token?: string, payload?: unknown) =>
  f.app.inject({ method, url: `/api/v1${url}`, headers: token ? bearer(token) : {}, ...(payload !== undefined ? { payload: payload as object } : {}) });
const page = (publicId: string, query = '') => f.app.inject({ method: 'GET', url: `/t/${publicId}${query}` });

async function issue(serviceCode = 'HT', lang?: 'vi' | 'en') {
  const res = await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services[serviceCode], ...(lang ? { lang } : {}) });
  expect(res.statusCode).toBe(201);
  return res.json().ticket as { id: string; publicId: string; code: string };
}

/** Counter 1 calls the next ticket and, unless told otherwise, finishes it. */
async function serve(ticketId: string, finish = true) {
  await api('POST', `/counters/${f.counters[1]}/open`, f.tokens.staff, {});
  const called = await api('POST', `/counters/${f.counters[1]}/call-next`, f.tokens.staff, {});
  expect(called.json().ticket.id).toBe(ticketId);
  if (finish) expect((await api('POST', `/tickets/${ticketId}/finish`, f.tokens.staff, {})).statusCode).toBe(200);
}

/** The text of the element with this id, with tags stripped (enough for our own markup). */
function section(html: string, id: string): { hidden: boolean; text: string } {
  const match = new RegExp(`<section[^>]*id="${id}"([^>]*)>([\\s\\S]*?)</section>`).exec(html);
  if (!match) throw new Error(`no section ${id}`);
  return { hidden: /\bhidden\b/.test(match[1]!), text: match[2]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim() };
}

describe('the phone page /t/:publicId', () => {
  it('is one small Vietnamese page with the code, service, people ahead and wait, and polls the public ticket', async () => {
    const first = await issue();
    const ticket = await issue();
    const res = await page(ticket.publicId);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toMatch(/default-src 'none'; style-src 'nonce-[^']+'; script-src 'nonce-/);
    const html = res.body;
    expect(Buffer.byteLength(html)).toBeLessThan(30 * 1024);
    expect(html).toMatch(/<html lang="vi">/);
    expect(html).toContain(`<p class="code" id="code">${ticket.code}</p>`);
    expect(html).toContain('Tư pháp – Hộ tịch');
    expect(html).toContain('Trung tâm Phục vụ hành chính công phường Đồng Cam');
    // "updated at" is the server's time (its clock, Tuesday 09:00 here), in the centre's zone
    expect(html).toMatch(/<span id="at">09:0\d<\/span>/);
    const waiting = section(html, 's-waiting');
    expect(waiting.hidden).toBe(false);
    expect(waiting.text).toContain('Người đang chờ trước bạn 1');
    expect(section(html, 's-called').hidden).toBe(true);
    // its script polls the public ticket through the API client (whose paths are /api/v1 + the call's)
    expect(html).toContain('/api/v1');
    expect(html).toContain('/public/tickets/');
    expect(html).not.toContain('socket.io');
    expect(html).not.toMatch(/<script(?! nonce=)/);
    expect(first.code).toBe('A001');
  });

  it('tells the citizen which counter to go to once called', async () => {
    const ticket = await issue('CT');
    await api('POST', `/counters/${f.counters[1]}/close`, f.tokens.staff, {});
    await api('POST', `/counters/${f.counters[3]}/open`, f.tokens.staff2, {});
    expect((await api('POST', `/counters/${f.counters[3]}/call-next`, f.tokens.staff2, {})).json().ticket.id).toBe(ticket.id);
    const html = (await page(ticket.publicId)).body;
    const called = section(html, 's-called');
    expect(called.hidden).toBe(false);
    expect(called.text).toBe('Đến lượt bạn! Mời bạn đến quầy số 3');
    expect(section(html, 's-waiting').hidden).toBe(true);
    expect((await page(ticket.publicId, '?lang=en')).body).toContain('Please go to counter');
    await api('POST', `/tickets/${ticket.id}/finish`, f.tokens.staff2, {});
    await api('POST', `/counters/${f.counters[3]}/close`, f.tokens.staff2, {});
  });

  it('is in English for a ticket taken in English, unless ?lang= says otherwise', async () => {
    const ticket = await issue('HT', 'en');
    const html = (await page(ticket.publicId)).body;
    expect(html).toMatch(/<html lang="en">/);
    expect(html).toContain('Justice – Civil status');
    expect(html).toContain('People ahead of you');
    expect((await page(ticket.publicId, '?lang=vi')).body).toMatch(/<html lang="vi">/);
  });

  it('answers an unknown or malformed publicId with a friendly 404 page in both languages', async () => {
    for (const id of ['AAAAAAAAAAAAAAAAAAAAAA', 'short', '%3Cscript%3Ealert(1)%3C%2Fscript%3E']) {
      const res = await page(id);
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('Không tìm thấy số thứ tự');
      expect(res.body).toContain('Ticket not found');
      expect(res.body).not.toContain('<script');
    }
  });

  it('escapes what it renders', async () => {
    await f.t.db.updateTable('site').set({ name: 'Trung tâm <script>alert("x")</script> & "Đồng Cam"' }).where('id', '=', f.siteId).execute();
    await f.t.db.updateTable('service').set({ name: JSON.stringify({ vi: '</script><b>Tư pháp</b>', en: "Justice'<i>" }) }).where('id', '=', f.services.KD!).execute();
    try {
      const ticket = await issue('KD');
      const html = (await page(ticket.publicId)).body;
      expect(html).toContain('Trung tâm &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;Đồng Cam&quot;');
      expect(html).toContain('&lt;/script&gt;&lt;b&gt;Tư pháp&lt;/b&gt;');
      expect(html).not.toContain('<b>Tư pháp');
      // inside the script data too: nothing there can close the element
      const script = /<script nonce="[^"]+">([\s\S]*)<\/script>/.exec(html)![1]!;
      expect(script).not.toContain('</');
      expect(script).toContain('\\u003c/script>\\u003cb>Tư pháp');
    } finally {
      await f.t.db.updateTable('site').set({ name: 'Trung tâm Phục vụ hành chính công phường Đồng Cam' }).where('id', '=', f.siteId).execute();
      await f.t.db.updateTable('service').set({ name: JSON.stringify({ vi: 'Đăng ký kinh doanh', en: 'Business registration' }) }).where('id', '=', f.services.KD!).execute();
    }
  });
});

describe('POST /api/v1/public/tickets/:publicId/rating', () => {
  it('rates a served ticket once from the phone, tied to the official and counter, then 409', async () => {
    // a fresh service so this ticket is next at counter 1
    const ticket = await issue('HT');
    const early = await api('POST', `/public/tickets/${ticket.publicId}/rating`, undefined, { score: 3 });
    expect(early.statusCode).toBe(409);
    expect(early.json().error.code).toBe('TICKET_NOT_SERVED');

    await f.t.db.updateTable('ticket').set({ status: 'cancelled' }).where('serviceId', '=', f.services.HT!).where('status', '=', 'waiting').where('id', '<>', ticket.id).execute();
    await serve(ticket.id);
    const before = (await page(ticket.publicId)).body;
    expect(section(before, 's-done').hidden).toBe(false);
    expect(before).toContain('<div id="rate">');
    expect(before).toContain('Rất hài lòng');
    expect(before).toContain('Phải chờ lâu');

    const rated = await api('POST', `/public/tickets/${ticket.publicId}/rating`, undefined, { score: 1, reason: 'waiting' });
    expect(rated.statusCode).toBe(201);
    expect(rated.json()).toEqual({ rating: { score: 1, reason: 'waiting', createdAt: expect.any(String) } });
    const stored = await f.t.db.selectFrom('rating').selectAll().where('ticketId', '=', ticket.id).execute();
    expect(stored).toEqual([expect.objectContaining({ score: 1, reason: 'waiting', channel: 'phone', counterId: f.counters[1], staffId: f.userIds.canbo1, deviceId: null })]);

    const again = await api('POST', `/public/tickets/${ticket.publicId}/rating`, undefined, { score: 3 });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('ALREADY_RATED');
    // the tablet cannot rate it a second time either
    expect((await api('POST', `/tickets/${ticket.id}/rating`, f.tokens.rating, { score: 3 })).statusCode).toBe(409);

    const after = (await page(ticket.publicId)).body;
    expect(after).toContain('<div id="rate" hidden>');
    expect(after).toContain('Số thứ tự này đã được đánh giá');
    // the lowest score reached a manager as an alert
    expect(await f.t.db.selectFrom('alert').select('kind').where('ticketId', '=', ticket.id).execute()).toEqual([{ kind: 'low_rating' }]);
  });

  it('refuses bad input with 400 and an unknown ticket with 404, storing nothing', async () => {
    const ticket = await issue('DD');
    const post = (publicId: string, payload: unknown) => api('POST', `/public/tickets/${publicId}/rating`, undefined, payload);
    for (const payload of [{}, { score: 'three' }, { score: 2.5 }, { score: 0 }, { score: 3, comment: 'x', extra: 1 }, { score: 3, reason: '<b>' }]) {
      const res = await post(ticket.publicId, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect((await post('bad id!', { score: 3 })).statusCode).toBe(400);
    const unknown = await post('AAAAAAAAAAAAAAAAAAAAAA', { score: 3 });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('TICKET_NOT_FOUND');

    await f.t.db.updateTable('ticket').set({ status: 'cancelled' }).where('serviceId', '=', f.services.DD!).where('status', '=', 'waiting').where('id', '<>', ticket.id).execute();
    await api('POST', `/counters/${f.counters[1]}/close`, f.tokens.staff, {});
    await api('POST', `/counters/${f.counters[4]}/open`, f.tokens.staff, {});
    await api('POST', `/counters/${f.counters[4]}/call-next`, f.tokens.staff, {});
    await api('POST', `/tickets/${ticket.id}/finish`, f.tokens.staff, {});
    expect((await post(ticket.publicId, { score: 7 })).json().error.code).toBe('INVALID_SCORE');
    expect((await post(ticket.publicId, { score: 1, reason: 'no_such_reason' })).json().error.code).toBe('INVALID_REASON');
    expect(await f.t.db.selectFrom('rating').select('id').where('ticketId', '=', ticket.id).execute()).toEqual([]);
    expect((await post(ticket.publicId, { score: 2 })).statusCode).toBe(201);
  });
});
