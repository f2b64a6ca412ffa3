import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Booking } from '@qms/protocol';
import { signIn } from '../support/pages.ts';
import { screens } from '../support/screens.ts';

// A citizen with a booking at the kiosk (docs/kiosk.md, "Bookings"): the code typed on the
// keypad, the booking's QR code or a chip ID card's QR code read by a keyboard-wedge scanner
// (typed a character every 5 ms, then Enter, as a scanner does), the late sentence and the
// refusals; then the booked ticket as the wall display and the counter show it. Chromium
// against the real server and its check-in endpoint. The server's clock starts at 09:00.

const s = screens();
const shots = process.env.KIOSK_SCREENSHOTS ?? path.join(tmpdir(), 'qms-kiosk-checkin-e2e');
mkdirSync(shots, { recursive: true });
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, `${name}.png`) });
const TZ = 'Asia/Ho_Chi_Minh';

/** an instant of today (or a later day) in Hà Nội, by its local time */
function at(hhmm: string, days = 0): string {
  const day = new Date(s.stack.now().getTime() + days * 86_400_000);
  return `${new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(day)}T${hhmm}:00.000+07:00`;
}
const ddmmyyyy = (iso: string) => new Intl.DateTimeFormat('en-GB', { timeZone: TZ, day: '2-digit', month: '2-digit', year: 'numeric' }).format(new Date(iso));

let manager: string;
/** A confirmed booking of the civil-status field, as the portal (or a manager) makes one. */
async function book(hhmm: string, options: { days?: number; idNumber?: string } = {}): Promise<Booking> {
  const res = await s.stack.api<{ booking: Booking }>('POST', `/sites/${s.stack.siteId}/bookings`, manager, {
    serviceId: s.stack.services.HT!, slotAt: at(hhmm, options.days ?? 0), ...(options.idNumber ? { idNumber: options.idNumber } : {}),
  });
  expect(res.status, res.text).toBe(201);
  return res.body.booking;
}

async function kiosk(options: { clock?: boolean; size?: { width: number; height: number } } = {}) {
  const device = await s.stack.device('kiosk');
  const context = await s.browser.context(options.size ?? { width: 1080, height: 1920 });
  const page = await context.newPage();
  page.setDefaultTimeout(8000);
  const errors: string[] = [];
  const logged: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => logged.push(m.text()));
  if (options.clock) await page.clock.install();
  await page.goto(`${s.stack.baseUrl}/kiosk/?pair=${device.pairingCode}`);
  await page.locator('[data-service="HT"]').waitFor();
  return { page, errors, logged, close: () => context.close() };
}

/** What a keyboard-wedge scanner does: the characters a few ms apart, then Enter. */
async function scan(page: Page, text: string) {
  await page.keyboard.type(text, { delay: 5 });
  await page.keyboard.press('Enter');
}

/** buttons a finger could miss (the kiosk's rule: 90 px both ways) */
const smallTargets = (page: Page) => page.evaluate(() => [...document.querySelectorAll('button')]
  .map((b) => ({ b, r: b.getBoundingClientRect() }))
  .filter(({ r }) => r.width > 0 && r.height > 0 && (r.width < 90 || r.height < 90))
  .map(({ b, r }) => `${b.textContent?.trim()} ${Math.round(r.width)}x${Math.round(r.height)}`));
/** nothing runs off the screen */
const overflows = (page: Page) => page.evaluate(() => [...document.querySelectorAll('main *')]
  .map((e) => ({ e, r: e.getBoundingClientRect() }))
  .filter(({ r }) => r.width > 0 && (r.right > innerWidth + 1 || r.bottom > innerHeight + 1))
  .map(({ e }) => e.outerHTML.slice(0, 80)));
const ticketsToday = async () => Number((await s.stack.t.db.selectFrom('ticket').select((eb) => eb.fn.countAll<number>().as('n'))
  .where('siteId', '=', s.stack.siteId).executeTakeFirstOrThrow()).n);

beforeAll(async () => {
  manager = await s.stack.login('quanly');
  const db = s.stack.t.db;
  const site = await db.selectFrom('site').select('settings').where('id', '=', s.stack.siteId).executeTakeFirstOrThrow();
  await db.updateTable('site').set({ settings: { ...site.settings, bookings: { enabled: true, remoteEnabled: true } } as typeof site.settings })
    .where('id', '=', s.stack.siteId).execute();
  // every day, so the test runs on any day of the week (the stack's centre is always open)
  for (let weekday = 1; weekday <= 7; weekday++) {
    for (const starts of ['09:00', '09:30', '10:00']) {
      await db.insertInto('bookingCapacity').values({ siteId: s.stack.siteId, serviceId: s.stack.services.HT!, weekday, starts: `${starts}:00`, capacity: 20 }).execute();
    }
  }
});

describe('check-in at the kiosk', () => {
  it('takes the 8-digit code on the keypad from the start screen\'s entry, and marks the ticket booked', async () => {
    const booking = await book('09:30');
    const { page, errors, close } = await kiosk();
    const entry = page.getByTestId('booking');
    expect(await entry.innerText()).toContain('Tôi đã đặt lịch hẹn');
    await shot(page, 'kiosk-1-home-vi');
    expect(await smallTargets(page)).toEqual([]);
    await entry.click();
    await page.getByTestId('checkin').waitFor();
    expect(await page.getByTestId('checkin-scan').innerText()).toContain('hoặc quét mã QR của lịch hẹn / căn cước công dân');
    await shot(page, 'kiosk-2-checkin-empty-vi');
    expect(await page.getByTestId('checkin-go').isDisabled()).toBe(true);
    for (const digit of booking.code) await page.locator(`.pad [data-key="${digit}"]`).click();
    expect(await page.getByTestId('checkin-code').innerText()).toBe(`${booking.code.slice(0, 4)} ${booking.code.slice(4)}`);
    await shot(page, 'kiosk-3-checkin-typed-vi');
    expect(await smallTargets(page)).toEqual([]);
    expect(await overflows(page)).toEqual([]);
    await page.getByTestId('checkin-go').click();
    await page.getByTestId('ticket').waitFor();
    expect(await page.getByTestId('ticket-booked').innerText()).toBe('ĐẶT LỊCH / BOOKED 09:30');
    expect(await page.getByTestId('ticket-code').innerText()).toMatch(/^A\d{3}$/);
    await shot(page, 'kiosk-4-ticket-booked-vi');
    expect(await overflows(page)).toEqual([]);
    const row = await s.stack.t.db.selectFrom('booking').select(['status', 'ticketId']).where('publicId', '=', booking.publicId).executeTakeFirstOrThrow();
    expect(row.status).toBe('checked_in');
    expect(errors).toEqual([]);
    await close();
  });

  it('reads a booking\'s QR code from the scanner on the start screen, and its keys press nothing else', async () => {
    const booking = await book('09:30');
    const { page, errors, logged, close } = await kiosk();
    // a service button has the focus: the scan's Enter must not take a walk-in ticket with it
    await page.locator('[data-service="HT"]').focus();
    const before = await ticketsToday();
    const url = `${s.stack.baseUrl}/b/${booking.publicId}`;
    await scan(page, url);
    await page.getByTestId('ticket-booked').waitFor();
    expect(await page.getByTestId('ticket-booked').innerText()).toBe('ĐẶT LỊCH / BOOKED 09:30');
    expect(await ticketsToday()).toBe(before + 1);
    // the scanned text is nowhere: not in storage, not in the page, not in the console
    expect(await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.body.innerText)).not.toContain(booking.publicId);
    expect(logged.join('\n')).not.toContain(booking.publicId);
    expect(errors).toEqual([]);
    await close();
  });

  it('reads a chip ID card\'s QR code on the check-in screen, and in English', async () => {
    const idNumber = '001089012345';
    await book('09:30', { idNumber });
    const { page, errors, logged, close } = await kiosk();
    await page.getByTestId('lang').click();
    await page.getByTestId('booking').click();
    await page.getByTestId('checkin').waitFor();
    expect(await page.getByTestId('checkin-scan').innerText()).toContain('or scan your booking\'s QR code / your chip ID card');
    await shot(page, 'kiosk-5-checkin-en');
    // the card's QR code as printed on it; a wedge scanner types letters outside the US layout as it can
    await scan(page, `${idNumber}|012345678|Nguyễn Văn An|15081989|Nam|12 Hàng Bạc, Hoàn Kiếm, Hà Nội|20042021`);
    await page.getByTestId('ticket-booked').waitFor();
    expect(await page.getByTestId('ticket-booked').innerText()).toBe('ĐẶT LỊCH / BOOKED 09:30');
    await shot(page, 'kiosk-6-ticket-booked-en');
    expect(await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.body.innerText)).not.toContain(idNumber);
    expect(logged.join('\n')).not.toContain(idNumber);
    expect(errors).toEqual([]);
    await close();
  });

  it('takes a scan typed into the search field, where a person\'s keys go on reaching the field', async () => {
    const booking = await book('09:30');
    const { page, errors, close } = await kiosk();
    await page.getByTestId('search').click();
    await page.keyboard.type('khai sinh');
    expect(await page.getByTestId('query').inputValue()).toBe('khai sinh');
    await scan(page, `${s.stack.baseUrl}/b/${booking.publicId}`);
    await page.getByTestId('ticket-booked').waitFor();
    expect(errors).toEqual([]);
    await close();
  });

  it('gives a walk-in ticket to someone past the late window, and says why in one sentence', async () => {
    const booking = await book('09:30');
    // booked for 08:00 today: past 08:15, the end of its late window (the default 15 minutes)
    await s.stack.t.db.updateTable('booking').set({ slotAt: new Date(at('08:00')) }).where('publicId', '=', booking.publicId).execute();
    const { page, errors, close } = await kiosk();
    await page.getByTestId('booking').click();
    for (const digit of booking.code) await page.locator(`.pad [data-key="${digit}"]`).click();
    await page.getByTestId('checkin-go').click();
    const late = page.getByTestId('ticket-late');
    await late.waitFor();
    expect(await late.innerText()).toContain('Bạn đến muộn hơn 15 phút so với giờ hẹn 08:00 nên được cấp số thường.');
    expect(await late.innerText()).toContain('You arrived more than 15 minutes after your 08:00 booking, so this is a regular ticket.');
    expect(await page.getByTestId('ticket-booked').count()).toBe(0);
    await shot(page, 'kiosk-7-ticket-late-vi');
    expect(await overflows(page)).toEqual([]);
    expect(errors).toEqual([]);
    await close();
  });

  it('marks a number taken from away "LẤY SỐ TỪ XA / REMOTE"', async () => {
    const booking = await book('09:30');
    // made a remote ticket in the database: taking one over the API needs a confirmed phone or email
    await s.stack.t.db.updateTable('booking').set({ kind: 'remote', slotAt: new Date(at('08:50')), arriveBy: new Date(at('09:30')) })
      .where('publicId', '=', booking.publicId).execute();
    const { page, errors, close } = await kiosk();
    await scan(page, `${s.stack.baseUrl}/b/${booking.publicId}`);
    await page.getByTestId('ticket-booked').waitFor();
    expect(await page.getByTestId('ticket-booked').innerText()).toBe('LẤY SỐ TỪ XA / REMOTE');
    await shot(page, 'kiosk-13-ticket-remote-vi');
    expect(errors).toEqual([]);
    await close();
  });

  it('refuses kindly: too early (come back from …), another day (its date), a wrong code; then home when left alone', async () => {
    const early = await book('10:00');
    const tomorrow = await book('09:00', { days: 1 });
    const { page, errors, close } = await kiosk({ clock: true });
    const notice = page.getByTestId('notice');

    await scan(page, `${s.stack.baseUrl}/b/${early.publicId}`);
    await notice.waitFor();
    expect(await notice.getAttribute('data-code')).toBe('BOOKING_TOO_EARLY');
    expect(await notice.innerText()).toContain('Lịch hẹn của bạn lúc 10:00 hôm nay.');
    expect(await notice.innerText()).toContain('Mời quay lại từ 09:30 để lấy số.');
    expect(await notice.innerText()).toContain('Please come back from 09:30 to check in.');
    await shot(page, 'kiosk-8-too-early-vi');
    expect(await smallTargets(page)).toEqual([]);
    // left alone, the kiosk goes back to its start screen
    await page.clock.fastForward(21_000);
    await page.locator('[data-service="HT"]').waitFor({ timeout: 5000 });

    await scan(page, `${s.stack.baseUrl}/b/${tomorrow.publicId}`);
    await notice.waitFor();
    expect(await notice.getAttribute('data-code')).toBe('BOOKING_OTHER_DAY');
    expect(await notice.innerText()).toContain(`Lịch hẹn của bạn vào ngày ${ddmmyyyy(tomorrow.slotAt)}, lúc 09:00.`);
    await shot(page, 'kiosk-9-other-day-vi');
    await page.getByRole('button', { name: 'Về màn hình chính' }).click();

    await page.getByTestId('booking').click();
    const wrong = tomorrow.code === '00000000' ? '11111111' : '00000000';
    for (const digit of wrong) await page.locator(`.pad [data-key="${digit}"]`).click();
    await page.getByTestId('checkin-go').click();
    await notice.waitFor();
    expect(await notice.getAttribute('data-code')).toBe('BOOKING_NOT_FOUND');
    expect(await notice.innerText()).toContain('Vui lòng kiểm tra lại mã 8 chữ số');
    await shot(page, 'kiosk-10-not-found-vi');
    await page.getByTestId('type-again').click();
    await page.getByTestId('checkin').waitFor();
    expect(errors).toEqual([]);
    await close();
  });

  it('fits a landscape kiosk: the keypad beside the words, nothing off the screen', async () => {
    const { page, errors, close } = await kiosk({ size: { width: 1920, height: 1080 } });
    await shot(page, 'kiosk-11-home-landscape-vi');
    expect(await overflows(page)).toEqual([]);
    await page.getByTestId('booking').click();
    await page.getByTestId('checkin').waitFor();
    for (const digit of '1234') await page.locator(`.pad [data-key="${digit}"]`).click();
    await shot(page, 'kiosk-12-checkin-landscape-vi');
    expect(await smallTargets(page)).toEqual([]);
    expect(await overflows(page)).toEqual([]);
    expect(errors).toEqual([]);
    await close();
  });

  it('leaves a person typing alone: slow keys and Enter on the start screen send nothing', async () => {
    const { page, errors, close } = await kiosk();
    const before = await ticketsToday();
    await page.keyboard.type('12345678', { delay: 120 });
    await page.keyboard.press('Enter');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await page.getByTestId('notice').count()).toBe(0);
    expect(await ticketsToday()).toBe(before);
    expect(errors).toEqual([]);
    await close();
  });
});

describe('a booked ticket on the wall display and at the counter', () => {
  it('shows the booked badge in the call, the recent calls, the current ticket and the call order', async () => {
    const kioskDevice = await s.stack.device('kiosk');
    const checkIn = (code: string) => s.stack.api('POST', `/sites/${s.stack.siteId}/check-in`, kioskDevice.token, { code });
    const first = await checkIn((await book('09:30')).code);
    const second = await checkIn((await book('09:30')).code);
    const third = await checkIn((await book('09:30')).code);
    expect([first.status, second.status, third.status]).toEqual([201, 201, 201]);
    expect(first.body.outcome).toBe('booked');
    expect(first.body.ticket.booking).toMatchObject({ kind: 'slot' });

    const displayDevice = await s.stack.device('display');
    const wall = await s.open(`/display/?pair=${displayDevice.pairingCode}`, { width: 1920, height: 1080 });
    await wall.page.getByTestId('board').waitFor({ timeout: 10_000 });
    const counter = await s.open('/counter/', { width: 1366, height: 768 });
    await signIn(counter.page, 'canbo1');
    await counter.page.getByTestId('counter-1').click();
    await counter.page.keyboard.press('F9');
    await expect.poll(() => counter.page.getByTestId('counter-status').innerText()).toContain('Đang mở');

    const official = await s.stack.login('canbo1');
    // the first is called and finished, the second called: one in the recent calls, one now
    for (const [ticket, finish] of [[first.body.ticket, true], [second.body.ticket, false]] as const) {
      expect((await s.stack.api('POST', `/tickets/${ticket.id}/call`, official)).status).toBe(200);
      if (finish) {
        expect((await s.stack.api('POST', `/tickets/${ticket.id}/start`, official)).status).toBe(200);
        expect((await s.stack.api('POST', `/tickets/${ticket.id}/finish`, official)).status).toBe(200);
      }
    }
    const now = wall.page.getByTestId('now');
    await expect.poll(() => wall.page.getByTestId('now-code').innerText()).toBe(second.body.ticket.code);
    expect(await now.getByTestId('booked-badge').innerText()).toMatch(/Hẹn\s*\/?\s*Booked/);
    const recent = wall.page.locator(`[data-testid="recent"] li[data-code="${first.body.ticket.code}"]`);
    expect(await recent.getByTestId('booked-badge').count()).toBe(1);
    await wall.page.waitForTimeout(300);
    await shot(wall.page, 'display-booked-1920x1080');

    await expect.poll(() => counter.page.getByTestId('current-code').innerText()).toBe(second.body.ticket.code);
    expect(await counter.page.getByTestId('current-booked').innerText()).toBe('Đặt lịch 09:30');
    // the third waits, marked in the call order
    await expect.poll(() => counter.page.getByTestId(`waiting-booked-${third.body.ticket.code}`).innerText()).toBe('Hẹn 09:30');
    await shot(counter.page, 'counter-booked-1366x768');
    expect([...wall.errors, ...counter.errors]).toEqual([]);
  });
});
