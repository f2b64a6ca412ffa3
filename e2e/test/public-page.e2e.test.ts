import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailbox, type Mailbox } from '../support/mailbox.ts';
import { qrOf } from '../support/qr.ts';
import { screens } from '../support/screens.ts';
import type { Stack } from '../support/stack.ts';

// The centre's public page (docs/public-page.md) in real Chromium on a phone-sized screen: the
// centre with its fields, live waits and procedures, a procedure's page and its QR code, the
// printable QR sheet; then a citizen books a time with a code sent by email (an SMTP peer on
// 127.0.0.1), sees the booking, moves it, cancels it, and takes a number from away; each page in
// both languages (screenshots in QMS_SCREENSHOTS).

const SHOTS = process.env.QMS_SCREENSHOTS ?? '/tmp/shots-public';
mkdirSync(SHOTS, { recursive: true });
const PHONE = { width: 390, height: 844 };
const CENTRE = '/c/PHUONG-DONG-CAM/';

const view = screens();
let stack: Stack;
let kioskToken: string;

const INFO = {
  steps: [
    { vi: 'Nộp tờ khai và giấy tờ tại quầy Tư pháp – Hộ tịch', en: 'Hand in the form and papers at the Civil status counter' },
    { vi: 'Cán bộ kiểm tra, ghi vào sổ hộ tịch', en: 'The official checks them and records the birth' },
    { vi: 'Nhận giấy khai sinh', en: 'Collect the birth certificate' },
  ],
  documents: [
    { vi: 'Tờ khai đăng ký khai sinh', en: 'Birth registration form' },
    { vi: 'Giấy chứng sinh', en: 'Birth certificate from the hospital' },
    { vi: 'CCCD của cha hoặc mẹ', en: 'A parent’s citizen ID card' },
  ],
  processingTime: { vi: 'Trong ngày làm việc', en: 'Within the working day' },
  fees: { vi: 'Miễn lệ phí', en: 'No fee' },
  url: 'https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.001193',
};

/** The mail server the centre's email channel sends codes to. */
let box: Mailbox;
let mails: Mailbox['mails'];
afterAll(() => box?.close());

/** The 6-digit code of the last email to `to` after the `after`-th. */
async function codeMailedTo(to: string, after: number): Promise<string> {
  await expect.poll(() => mails.slice(after).filter((m) => m.to === to).length, { timeout: 15_000 }).toBeGreaterThan(0);
  const mail = mails.slice(after).filter((m) => m.to === to).at(-1)!;
  return /\b(\d{6})\b/.exec(mail.subject)![1]!;
}

beforeAll(async () => {
  stack = view.stack;
  box = await mailbox();
  mails = box.mails;
  const { db } = stack.t;
  await db.updateTable('procedure').set({ info: JSON.stringify(INFO) as never }).where('code', '=', '1.001193').execute();
  await sql`UPDATE site SET settings = settings || ${JSON.stringify({ bookings: { enabled: true, remoteEnabled: true, daysAhead: 7 } })}::jsonb WHERE id = ${stack.siteId}`.execute(db);
  // HT takes three bookings in every half hour of every day; codes go by email
  await db.insertInto('bookingCapacity').values([1, 2, 3, 4, 5, 6, 7].flatMap((weekday) => ['08:00', '08:30', '09:00', '09:30', '10:00', '10:30', '14:00', '14:30']
    .map((starts) => ({ siteId: stack.siteId, serviceId: stack.services.HT!, weekday, starts, capacity: 3 })))).execute();
  const manager = await stack.login('quanly');
  const channel = await stack.api('PUT', `/sites/${stack.siteId}/notification-channels/email`, manager, {
    enabled: true, settings: box.settings(),
  });
  expect(channel.status, channel.text).toBe(200);
  kioskToken = (await stack.device('kiosk')).token;
  for (const service of ['HT', 'HT', 'CT']) {
    const res = await stack.api('POST', `/sites/${stack.siteId}/tickets`, kioskToken, { serviceId: stack.services[service] });
    expect(res.status, res.text).toBe(201);
  }
});

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const field = (page: Page, code: string) => page.locator(`#svc-${code}`);

describe('the centre’s public page on a phone', () => {
  it('shows the fields with their waiting count, wait and procedures, and refreshes them by itself', async () => {
    const { page, errors } = await view.open(CENTRE, PHONE, { failedRequests: true });
    await page.clock.install(); // its refresh runs on a clock the test moves on (below)
    await page.reload();
    await expect.poll(() => page.locator('h1').innerText()).toBe('Trung tâm Phục vụ hành chính công phường Đồng Cam');
    const ht = field(page, 'HT');
    expect(await ht.locator('h2').innerText()).toBe('Tư pháp – Hộ tịch');
    expect(await ht.locator('.w').innerText()).toBe('2');
    // no counter is open yet: the wait says so rather than promising minutes
    expect(await ht.locator('.eta').innerText()).toContain('Chưa có quầy phục vụ');
    expect(await ht.locator('ul.procs').innerText()).toContain('Đăng ký khai sinh');
    expect(await page.locator('#open').innerText()).toBe('Đang mở cửa');
    await shot(page, 'centre-vi');

    // a number taken at the kiosk and a counter opened reach the page at its 20 s refresh, not before
    const official = await stack.login('canbo1');
    expect((await stack.api('POST', `/counters/${stack.counters[1]}/open`, official, {})).status).toBe(200);
    expect((await stack.api('POST', `/sites/${stack.siteId}/tickets`, kioskToken, { serviceId: stack.services.HT })).status).toBe(201);
    await page.clock.fastForward(19_000);
    await page.waitForTimeout(300);
    expect(await ht.locator('.w').innerText()).toBe('2');
    await page.clock.fastForward(1_500);
    await expect.poll(() => ht.locator('.w').innerText(), { timeout: 5_000 }).toBe('3');
    expect(await ht.locator('.oc').innerText()).toBe('1');
    expect(await ht.locator('.eta').innerText()).toMatch(/^~\d+ phút$/);
    expect(errors).toEqual([]);
  });

  it('opens a procedure: code, documents, steps, fees, the national portal, its field and its QR code; and in English', async () => {
    const { page, errors } = await view.open(CENTRE, PHONE, { failedRequests: true });
    await page.getByRole('link', { name: /Đăng ký khai sinh/ }).click();
    await page.waitForURL(/\/p\/1\.001193$/);
    expect(await page.locator('h1').innerText()).toBe('Đăng ký khai sinh');
    expect(await page.locator('#code').innerText()).toBe('1.001193');
    expect(await page.locator('#documents').innerText()).toContain('Giấy chứng sinh');
    expect(await page.locator('#steps li').count()).toBe(3);
    expect(await page.locator('#fees').innerText()).toBe('Miễn lệ phí');
    expect(await page.locator('#portal').getAttribute('href')).toBe(INFO.url);
    const qr = await page.locator('#qr svg').boundingBox();
    expect(qr!.width).toBeGreaterThan(150);
    await shot(page, 'procedure-vi');
    await page.locator('#lang').click();
    await page.waitForURL(/lang=en/);
    expect(await page.locator('h1').innerText()).toBe('Birth registration');
    expect(await page.locator('#documents').innerText()).toContain('Birth certificate from the hospital');
    await shot(page, 'procedure-en');
    // the language stays chosen on the next page
    await page.getByRole('link', { name: 'Back to the centre' }).click();
    await expect.poll(() => field(page, 'HT').locator('h2').innerText()).toBe('Justice – Civil status');
    await shot(page, 'centre-en');
    expect(errors).toEqual([]);
  });

  it('prints every procedure’s QR code on A4, one card each', async () => {
    const { page, errors } = await view.open('/c/PHUONG-DONG-CAM/qr', PHONE, { failedRequests: true });
    const cards = page.locator('.qcard');
    const procedures = await stack.t.db.selectFrom('procedure').innerJoin('service', 'service.id', 'procedure.serviceId')
      .select('procedure.code').where('service.siteId', '=', stack.siteId).execute();
    expect(await cards.count()).toBe(procedures.length);
    await shot(page, 'qr-sheet-vi');
    await page.emulateMedia({ media: 'print' });
    await page.setViewportSize({ width: 794, height: 1123 }); // A4 at 96 dpi
    expect(await page.locator('header').isVisible()).toBe(false);
    expect(await page.locator('#print').isVisible()).toBe(false);
    // three cards a row, side by side, none cut in half
    const [a, b, c] = await Promise.all([0, 1, 2].map((i) => cards.nth(i).boundingBox()));
    expect(a!.y).toBe(b!.y);
    expect(b!.y).toBe(c!.y);
    await page.screenshot({ path: path.join(SHOTS, 'qr-sheet-print.png'), fullPage: true });
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
    expect(pages).toBe(Math.ceil(procedures.length / 9));
    expect(errors).toEqual([]);
  });
});

describe('booking a time and taking a number from away', () => {
  const EMAIL = 'nguoidan@example.vn';

  it('books a slot with a code sent by email, shows the booking with its QR code, moves it, and cancels it', async () => {
    const { page, errors } = await view.open(CENTRE, PHONE, { failedRequests: true });
    await page.locator('#go-book').click();
    await page.waitForURL(/\/book$/);
    await page.locator('[data-service="HT"]').click();
    await page.locator('#procedure').selectOption('1.001193');
    // tomorrow: today's first slots may be over at the hour the test runs
    await page.locator('[data-day]').nth(1).click();
    const slots = page.locator('[data-slot]');
    await slots.first().waitFor();
    expect(await slots.first().innerText()).toMatch(/^08:00–08:30\s+còn 3 chỗ$/);
    await slots.first().click();
    await page.locator('#addr').fill(EMAIL);
    await page.locator('#idn').fill('001203004567');
    expect(await page.locator('.consent').innerText()).toContain('Nghị định 13/2023/NĐ-CP');
    // no consent, no code
    await page.locator('#send').click();
    expect(await page.locator('#err').innerText()).toContain('đồng ý');
    await page.locator('#agree').check();
    expect(await page.locator('#err').count()).toBe(0);
    await shot(page, 'book-vi');
    const before = mails.length;
    await page.locator('#send').click();
    await page.locator('#verify').waitFor();
    expect(await page.locator('#verify').innerText()).toMatch(/đã được gửi đến n\S*@example\.vn/);
    await shot(page, 'book-code-vi');
    const otp = await codeMailedTo(EMAIL, before);
    // a wrong code first: said in words, the form stays
    await page.locator('#otp').fill(otp === '000000' ? '111111' : '000000');
    await page.locator('#confirm').click();
    await expect.poll(() => page.locator('#err').innerText()).toContain('Mã xác nhận chưa đúng');
    await page.locator('#otp').fill(otp);
    await page.locator('#confirm').click();
    await page.waitForURL(/\/b\/[A-Za-z0-9_-]+$/);
    const url = page.url();
    await expect.poll(() => page.locator('#code').innerText()).toMatch(/^\d{4} \d{4}$/);
    expect(await page.locator('#status').innerText()).toBe('Đã xác nhận');
    expect(await page.locator('#field').innerText()).toBe('Tư pháp – Hộ tịch');
    expect(await page.locator('#procedure').innerText()).toBe('Đăng ký khai sinh');
    expect(await page.locator('#date').innerText()).toMatch(/^\d{2}\/\d{2}\/\d{4}$/);
    expect(await page.locator('#time').innerText()).toBe('08:00–08:30');
    // check-in from earlyMinutes (30) before the slot to lateMinutes (15) after it
    expect(await page.locator('#window').innerText()).toBe('Lấy số tại ki-ốt từ 07:30 đến 08:15');
    expect(await qrOf(page, '#qr svg')).toBe(url);
    await shot(page, 'booking-vi');
    const english = await view.open(`${new URL(url).pathname}?lang=en`, PHONE, { failedRequests: true });
    await expect.poll(() => english.page.locator('#status').innerText()).toBe('Confirmed');
    expect(await english.page.locator('#window').innerText()).toBe('Check in at the kiosk from 07:30 to 08:15');
    await shot(english.page, 'booking-en');
    expect(english.errors).toEqual([]);
    // the calendar file
    const ics = await fetch(new URL((await page.locator('#ics').getAttribute('href'))!, url));
    expect(ics.headers.get('content-type')).toContain('text/calendar');
    expect(await ics.text()).toContain('BEGIN:VEVENT');

    // move it to 09:00 the same day
    await page.locator('#move').click();
    await page.locator('#when [data-day]').nth(1).click();
    await page.locator('#when [data-slot]').nth(2).click();
    await shot(page, 'booking-move-vi');
    await page.locator('#move-go').click();
    await expect.poll(() => page.locator('#note').innerText()).toBe('Đã đổi giờ hẹn.');
    expect(await page.locator('#time').innerText()).toBe('09:00–09:30');

    // cancel it, after saying yes
    await page.locator('#cancel').click();
    await page.locator('#keep').click();
    expect(await page.locator('#status').innerText()).toBe('Đã xác nhận');
    await page.locator('#cancel').click();
    await shot(page, 'booking-cancel-vi');
    await page.locator('#cancel-yes').click();
    await expect.poll(() => page.locator('#status').innerText()).toBe('Đã hủy');
    expect(await page.locator('#qr').isVisible()).toBe(false);
    expect(await page.locator('#move').count()).toBe(0);
    expect(await page.locator('#again').getAttribute('href')).toBe('/c/PHUONG-DONG-CAM/book');
    await shot(page, 'booking-cancelled-vi');
    // the wrong code's refusal, and nothing else
    expect(errors).toEqual([expect.stringMatching(/^400 .*\/confirm$/)]);
  }, 60_000);

  it('takes a number from away in English: come by HH:mm, then the booking page, which links to the ticket once checked in', async () => {
    const { page, errors } = await view.open('/c/PHUONG-DONG-CAM/now?lang=en', PHONE, { failedRequests: true });
    await page.locator('[data-service="HT"]').click();
    await page.locator('#addr').fill(EMAIL);
    await page.locator('#agree').check();
    await shot(page, 'now-en');
    const before = mails.length;
    await page.locator('#send').click();
    await page.locator('#verify').waitFor();
    expect(await page.locator('#verify').innerText()).toContain('A 6-digit code was sent to');
    await page.locator('#otp').fill(await codeMailedTo(EMAIL, before));
    await page.locator('#confirm').click();
    await page.locator('#done').waitFor();
    expect(await page.locator('#done').innerText()).toContain('Please be there by');
    expect(await page.locator('#arrive').innerText()).toMatch(/^\d{2}:\d{2}$/);
    await shot(page, 'now-done-en');
    await page.locator('#see').click();
    await page.waitForURL(/\/b\//);
    await expect.poll(() => page.locator('#title').innerText()).toBe('Remote ticket');
    expect(await page.locator('#status').innerText()).toBe('Confirmed');
    expect(await page.locator('#comeby').innerText()).toMatch(/^Please be there by \d{2}:\d{2}$/);
    await shot(page, 'booking-remote-en');

    // checked in at the kiosk with its code: the page leads to the ticket's phone page
    const code = (await page.locator('#code').innerText()).replace(/\s/g, '');
    const checkIn = await stack.api('POST', `/sites/${stack.siteId}/check-in`, kioskToken, { code });
    expect(checkIn.status, checkIn.text).toBe(201);
    await page.reload();
    await expect.poll(() => page.locator('#status').innerText()).toBe('Checked in');
    await page.locator('#ticket').click();
    await page.waitForURL(/\/t\//);
    expect(await page.locator('#code').innerText()).toBe(checkIn.body.ticket.code);
    expect(errors).toEqual([]);
  }, 60_000);

  it('shows the booking steps and a booking in both languages', async () => {
    for (const lang of ['vi', 'en'] as const) {
      const { page, errors } = await view.open(`/c/PHUONG-DONG-CAM/book?lang=${lang}&service=${stack.services.HT}`, PHONE, { failedRequests: true });
      await page.locator('[data-day]').nth(1).click();
      await page.locator('[data-slot]').first().waitFor();
      await shot(page, `book-slots-${lang}`);
      expect(errors).toEqual([]);
    }
  });
});

describe('the centre with its opening hours and a holiday', () => {
  it('shows the week, Saturday morning, the holiday and the QR sheet in both languages', async () => {
    const { db } = stack.t;
    const hours = [1, 2, 3, 4, 5].flatMap((weekday) => [{ weekday, opens: '07:30', closes: '11:30' }, { weekday, opens: '13:30', closes: '17:00' }]);
    await db.insertInto('openingHours').values([...hours, { weekday: 6, opens: '07:30', closes: '11:30' }].map((h) => ({ ...h, siteId: stack.siteId }))).execute();
    const year = Number(new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(stack.now()).slice(0, 4)) + 1;
    await db.insertInto('holiday').values({ siteId: stack.siteId, date: `${year}-01-01`, name: 'Tết Dương lịch' }).execute();
    for (const lang of ['vi', 'en'] as const) {
      const { page, errors } = await view.open(`${CENTRE}?lang=${lang}`, PHONE, { failedRequests: true });
      const week = await page.locator('#week').innerText();
      expect(week).toContain(lang === 'vi' ? 'Thứ Bảy\t07:30–11:30' : 'Saturday\t07:30–11:30');
      expect(week).toContain(lang === 'vi' ? 'Chủ nhật\tNghỉ' : 'Sunday\tClosed');
      expect(week).toContain('07:30–11:30, 13:30–17:00');
      expect(await page.locator('body').innerText()).toContain(`01/01/${year}`);
      await shot(page, `centre-hours-${lang}`);
      const sheet = await view.open(`/c/PHUONG-DONG-CAM/qr?lang=${lang}`, PHONE, { failedRequests: true });
      await shot(sheet.page, `qr-sheet-${lang}`);
      expect([...errors, ...sheet.errors]).toEqual([]);
    }
  });
});
