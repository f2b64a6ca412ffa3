import { createCanvas, loadImage } from '@napi-rs/canvas';
import jsQR from 'jsqr';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicCentre } from '@qms/protocol';
import { apiFixture, bearer, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';

// The centre's public page (docs/public-page.md): its read model against the queue's own
// figures, and its pages' headers and QR codes.

let f: ApiFixture;
const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Hà Nội: the demo centre is open
const BASE = 'https://dichvucong.example.vn';
const CODE = 'PHUONG-DONG-CAM';
const PHONE = '0912345678';
const EMAIL = 'nguoidan@example.vn';
const INFO = {
  steps: [{ vi: 'Nộp hồ sơ tại quầy', en: 'Hand in the file at the counter' }, { vi: 'Nhận kết quả', en: 'Collect the result' }],
  documents: [{ vi: 'Giấy chứng sinh', en: 'Birth certificate from the hospital' }],
  processingTime: { vi: 'Trong ngày', en: 'Same day' },
  fees: { vi: 'Miễn phí', en: 'Free' },
  url: 'https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.001193',
};

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now, config: { rateLimits: false, publicUrl: BASE } });
  const { db } = f.t;
  await db.updateTable('procedure').set({ info: JSON.stringify(INFO) as never }).where('code', '=', '1.001193').where('serviceId', '=', f.services.HT!).execute();
  await sql`UPDATE site SET settings = settings || ${JSON.stringify({ bookings: { enabled: true, remoteEnabled: true, daysAhead: 7 } })}::jsonb WHERE id = ${f.siteId}`.execute(db);
  await db.insertInto('bookingCapacity').values([
    { siteId: f.siteId, serviceId: f.services.HT!, weekday: 3, starts: '08:00', capacity: 4 },
    // a zero capacity books nobody: CT stays unbookable
    { siteId: f.siteId, serviceId: f.services.CT!, weekday: 3, starts: '08:00', capacity: 0 },
  ]).execute();
  await db.insertInto('holiday').values([
    { siteId: f.siteId, date: '2026-11-20', name: 'Ngày Nhà giáo (past)' },
    { siteId: f.siteId, date: '2027-01-01', name: 'Tết Dương lịch' },
  ]).execute();
  // email can carry a code; SMS is set up but off
  await db.insertInto('notificationChannel').values([
    { siteId: f.siteId, kind: 'email', enabled: true, settings: JSON.stringify({ host: '127.0.0.1', port: 2525, from: 'tt@example.vn' }) as never },
    { siteId: f.siteId, kind: 'sms', enabled: false, settings: JSON.stringify({}) as never },
  ]).execute();
  // personal data the public page must never carry: a booking with a phone number, a ticket's
  await db.insertInto('booking').values({
    publicId: 'pubBookingId123456', code: 'K7Q2M9', siteId: f.siteId, serviceId: f.services.HT!, kind: 'slot', status: 'confirmed', source: 'public',
    localDate: '2026-11-25', slotAt: new Date('2026-11-25T01:00:00Z'), slotMinutes: 30, contactKind: 'phone', contact: PHONE, createdAt: clock.now(),
  }).execute();
  await db.insertInto('booking').values({
    publicId: 'pubBookingId654321', code: 'Z9Z9Z9', siteId: f.siteId, serviceId: f.services.HT!, kind: 'slot', status: 'confirmed', source: 'public',
    localDate: '2026-11-25', slotAt: new Date('2026-11-25T01:30:00Z'), slotMinutes: 30, contactKind: 'email', contact: EMAIL, createdAt: clock.now(),
  }).execute();
});
afterAll(async () => {
  await f?.app.close();
  await f?.t.drop();
});

const api = (method: 'GET' | 'POST', url: string, token?: string, payload?: object) =>
  f.app.inject({ method, url: `/api/v1${url}`, headers: token ? bearer(token) : {}, ...(payload ? { payload } : {}) });
const get = (url: string) => f.app.inject({ method: 'GET', url });

/** The text of the first QR code drawn in an SVG of the page, read back by jsQR from a rendering. */
async function readQr(html: string): Promise<string | null> {
  const svg = /<svg class="qr"[\s\S]*?<\/svg>/.exec(html)?.[0];
  if (!svg) return null;
  const image = await loadImage(Buffer.from(svg));
  const side = 400;
  const canvas = createCanvas(side, side);
  const g = canvas.getContext('2d');
  g.drawImage(image, 0, 0, side, side);
  return jsQR(g.getImageData(0, 0, side, side).data, side, side)?.data ?? null;
}

describe('GET /api/v1/public/sites/:siteCode', () => {
  it('gives each field the queue’s own waiting, estimate and serving counters', async () => {
    for (const service of ['HT', 'HT', 'HT', 'CT']) {
      expect((await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services[service] })).statusCode).toBe(201);
    }
    expect((await api('POST', `/counters/${f.counters[1]}/open`, f.tokens.staff, {})).statusCode).toBe(200);
    const res = await api('GET', `/public/sites/${CODE}`);
    expect(res.statusCode).toBe(200);
    const centre = res.json() as PublicCentre;
    const queue = (await api('GET', `/sites/${f.siteId}/queue`, f.tokens.manager)).json() as { services: { serviceId: string; waiting: number; estimatedWaitSeconds: number; servingCounters: number }[] };
    expect(centre.services.map((s) => s.id)).toEqual(queue.services.map((s) => s.serviceId));
    for (const q of queue.services) {
      const s = centre.services.find((x) => x.id === q.serviceId)!;
      expect({ waiting: s.waiting, eta: s.estimatedWaitSeconds, open: s.openCounters }).toEqual({ waiting: q.waiting, eta: q.estimatedWaitSeconds, open: q.servingCounters });
    }
    const ht = centre.services.find((s) => s.code === 'HT')!;
    expect(ht.waiting).toBe(3);
    expect(ht.openCounters).toBe(1);
    expect(ht.estimatedWaitSeconds).toBeGreaterThan(0);
    expect(centre.services.find((s) => s.code === 'CT')!.waiting).toBe(1);
  });

  it('lists procedures with their information, the week’s hours, holidays from today, and what can be booked', async () => {
    const centre = (await api('GET', `/public/sites/${CODE}`)).json() as PublicCentre;
    expect(centre).toMatchObject({ code: CODE, name: 'Trung tâm Phục vụ hành chính công phường Đồng Cam', timezone: 'Asia/Ho_Chi_Minh', openNow: true });
    const ht = centre.services.find((s) => s.code === 'HT')!;
    expect(ht.name).toEqual({ vi: 'Tư pháp – Hộ tịch', en: 'Justice – Civil status' });
    expect(ht.procedures.map((p) => p.code)).toEqual(['1.000656', '1.000894', '1.001193', '1.004873']);
    expect(ht.procedures.find((p) => p.code === '1.001193')).toEqual({ code: '1.001193', name: { vi: 'Đăng ký khai sinh', en: 'Birth registration' }, processingDays: 0, info: INFO });
    expect(ht.procedures.find((p) => p.code === '1.004873')).toMatchObject({ processingDays: 3, info: {} });
    // Monday to Friday two sessions, Saturday morning, Sunday none
    expect(centre.hours.filter((h) => h.weekday === 2)).toEqual([{ weekday: 2, opens: '07:30', closes: '11:30' }, { weekday: 2, opens: '13:30', closes: '17:00' }]);
    expect(centre.hours.filter((h) => h.weekday === 6)).toEqual([{ weekday: 6, opens: '07:30', closes: '11:30' }]);
    expect(centre.hours.filter((h) => h.weekday === 7)).toEqual([]);
    expect(centre.hours).toHaveLength(11);
    expect(centre.holidays).toEqual([{ date: '2027-01-01', name: 'Tết Dương lịch' }]);
    expect(centre.bookings).toEqual({ enabled: true, remoteEnabled: true, daysAhead: 7, earlyMinutes: 30, lateMinutes: 15 });
    expect(centre.contacts).toEqual({ phone: false, email: true });
    expect(centre.services.filter((s) => s.bookable).map((s) => s.code)).toEqual(['HT']);
  });

  it('says when the centre is closed, and nothing is bookable while bookings are off', async () => {
    clock.set('2026-11-29T03:00:00Z'); // Sunday 10:00
    try {
      const centre = (await api('GET', `/public/sites/${CODE}`)).json() as PublicCentre;
      expect(centre.openNow).toBe(false);
    } finally {
      clock.set(new Date('2026-11-24T02:00:00Z'));
    }
    await sql`UPDATE site SET settings = jsonb_set(settings, '{bookings,enabled}', 'false') WHERE id = ${f.siteId}`.execute(f.t.db);
    try {
      const centre = (await api('GET', `/public/sites/${CODE}`)).json() as PublicCentre;
      expect(centre.services.some((s) => s.bookable)).toBe(false);
    } finally {
      await sql`UPDATE site SET settings = jsonb_set(settings, '{bookings,enabled}', 'true') WHERE id = ${f.siteId}`.execute(f.t.db);
    }
  });

  it('carries nothing personal', async () => {
    const res = await api('GET', `/public/sites/${CODE}`);
    expect(res.body).not.toContain(PHONE);
    expect(res.body).not.toContain(EMAIL);
    expect(res.body).not.toContain('K7Q2M9');
    expect(res.body).not.toMatch(/canbo|Cán bộ|staff|publicId/);
  });

  it('answers 404 SITE_NOT_FOUND for an unknown code, and 400 for a code that cannot be one', async () => {
    const res = await api('GET', '/public/sites/NO-SUCH-CENTRE');
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('SITE_NOT_FOUND');
    expect((await api('GET', '/public/sites/bad%20code')).statusCode).toBe(400);
  });

  it('is in the OpenAPI document, tagged public', async () => {
    const doc = (await f.app.inject({ method: 'GET', url: '/api/docs/json' })).json();
    expect(doc.paths['/api/v1/public/sites/{siteCode}'].get.tags).toEqual(['public']);
  });
});

describe('the public pages', () => {
  const pages = ['/c/PHUONG-DONG-CAM/', '/c/PHUONG-DONG-CAM/p/1.001193', '/c/PHUONG-DONG-CAM/qr', '/c/PHUONG-DONG-CAM/book', '/c/PHUONG-DONG-CAM/now', '/b/pubBookingId123456'];

  it('carry the phone page’s security headers, a nonce on every script and style, and no personal data', async () => {
    for (const url of pages) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['cache-control']).toBe('no-store');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toMatch(/^default-src 'none'; style-src 'nonce-([^']+)'; script-src 'nonce-\1'; connect-src 'self'/);
      expect(csp).toContain("frame-ancestors 'none'");
      const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
      expect(res.body).not.toMatch(/<script(?! nonce=)/);
      for (const m of res.body.matchAll(/<(script|style) nonce="([^"]+)"/g)) expect(m[2]).toBe(nonce);
      expect(res.body).not.toContain(PHONE);
      expect(res.body).not.toContain(EMAIL);
      expect(Buffer.byteLength(res.body), url).toBeLessThan(120 * 1024);
    }
  });

  it('show the centre in Vietnamese, and in English with ?lang=en, which the next page remembers', async () => {
    const vi = await get('/c/PHUONG-DONG-CAM/');
    expect(vi.body).toMatch(/<html lang="vi">/);
    expect(vi.body).toContain('Tư pháp – Hộ tịch');
    expect(vi.body).toContain('Đăng ký khai sinh');
    expect(vi.body).toContain('Đặt lịch hẹn');
    expect(vi.body).toContain('Lấy số từ xa');
    expect(vi.body).toContain('07:30–11:30, 13:30–17:00');
    expect(vi.body).toContain('01/01/2027');
    expect(vi.body).toContain('Đang mở cửa');
    const en = await get('/c/PHUONG-DONG-CAM/?lang=en');
    expect(en.body).toMatch(/<html lang="en">/);
    expect(en.body).toContain('Justice – Civil status');
    expect(en.body).toContain('Book a time');
    expect(en.body).not.toContain('Đặt lịch hẹn');
    const cookie = String(en.headers['set-cookie']);
    expect(cookie).toMatch(/^qms_lang=en;/);
    const next = await f.app.inject({ method: 'GET', url: '/c/PHUONG-DONG-CAM/p/1.001193', headers: { cookie: 'qms_lang=en' } });
    expect(next.body).toContain('Birth registration');
  });

  it('show a procedure with its steps, documents, fees, the portal link, its field, and a QR code of its own address', async () => {
    const res = await get('/c/PHUONG-DONG-CAM/p/1.001193');
    const html = res.body;
    expect(html).toContain('<h1>Đăng ký khai sinh</h1>');
    expect(html).toContain('1.001193');
    expect(html).toContain('Giấy chứng sinh');
    expect(html).toContain('Nộp hồ sơ tại quầy');
    expect(html).toContain('Miễn phí');
    expect(html).toContain('Trong ngày');
    expect(html).toContain('Tư pháp – Hộ tịch');
    expect(html).toContain(`href="${INFO.url.replace(/&/g, '&amp;')}"`);
    expect(await readQr(html)).toBe(`${BASE}/c/PHUONG-DONG-CAM/p/1.001193`);
  });

  it('print every procedure’s QR code on A4, one card each', async () => {
    const html = (await get('/c/PHUONG-DONG-CAM/qr')).body;
    const count = await f.t.db.selectFrom('procedure').innerJoin('service', 'service.id', 'procedure.serviceId')
      .select((eb) => eb.fn.countAll<number>().as('n')).where('service.siteId', '=', f.siteId).where('service.active', '=', true).executeTakeFirstOrThrow();
    expect(html.match(/class="qcard"/g)?.length).toBe(Number(count.n));
    expect(html).toContain('@page{size:A4');
    expect(html).toContain('@media print');
    const card = /<div class="qcard" data-procedure="1.001193">[\s\S]*?<\/div>/.exec(html)![0];
    expect(card).toContain('Đăng ký khai sinh');
    expect(card).toContain('Birth registration');
    expect(await readQr(card)).toBe(`${BASE}/c/PHUONG-DONG-CAM/p/1.001193`);
    // printed in English, a card still reads Vietnamese first
    const english = (await get('/c/PHUONG-DONG-CAM/qr?lang=en')).body;
    expect(english).toContain('<h1>QR codes of the administrative procedures');
    expect(english).toMatch(/data-procedure="1.001193">[\s\S]*?<p class="n" lang="vi">Đăng ký khai sinh<\/p><p class="e" lang="en">Birth registration<\/p>/);
  });

  it('show a booking’s page with a QR code of its address, the booking being drawn by the script', async () => {
    const res = await get('/b/pubBookingId123456');
    expect(await readQr(res.body)).toBe(`${BASE}/b/pubBookingId123456`);
    expect(res.body).not.toContain('K7Q2M9'); // the script asks the API for it: the address is the key, not the page
  });

  it('answer their own 404 page, in both languages, for what does not exist', async () => {
    for (const url of ['/c/NO-SUCH/', '/c/PHUONG-DONG-CAM/p/9.999999', '/c/PHUONG-DONG-CAM/p/<x>', '/b/nosuchbooking123', '/b/x', '/c/%3Cx%3E/qr']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('lang="en"');
      expect(res.body).not.toContain('<x>');
    }
  });
});
