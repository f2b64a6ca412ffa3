import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailbox, type Mailbox } from '../support/mailbox.ts';
import { signIn } from '../support/pages.ts';
import { qrOf } from '../support/qr.ts';
import { screens } from '../support/screens.ts';

// A booked citizen's whole morning (issue 19, docs/appointments.md), in Chromium against the real
// server: at 09:00 she books today's 10:00 slot on the centre's public page on her phone, the
// code reaches her mailbox (an SMTP peer on 127.0.0.1), she confirms and keeps the page's QR
// code; at 09:50 the kiosk's scanner reads that QR code and prints her booked ticket, in line
// ahead of the walk-ins who came after 09:45; at 10:00 the official's F1 calls her, the counter
// shows her booking, and after the visit she rates the official on her phone. The server runs on
// a clock that the test moves through the morning (today's date, whatever the hour it runs at).

const TZ = 'Asia/Ho_Chi_Minh';
const today = new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date());
const local = (hhmm: string) => Date.parse(`${today}T${hhmm}:00+07:00`);
let base = local('09:00');
let t0 = performance.now();
const clock = () => new Date(base + Math.floor(performance.now() - t0));
/** the morning moves on: the server's clock shows `hhmm` now */
const setTime = (hhmm: string) => {
  base = local(hhmm);
  t0 = performance.now();
};

const view = screens({ clock });
const shots = process.env.QMS_SCREENSHOTS ?? path.join(tmpdir(), 'qms-appointment-day-e2e');
mkdirSync(shots, { recursive: true });
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, `${name}.png`) });
const PHONE = { width: 390, height: 844 };
const EMAIL = 'chi.lan@example.vn';

let box: Mailbox;
afterAll(() => box?.close());

beforeAll(async () => {
  const { stack } = view;
  box = await mailbox();
  const manager = await stack.login('quanly');
  // the centre takes bookings; civil status (HT) three at 10:00 on every day of the week
  const rules = await stack.api('PUT', `/sites/${stack.siteId}/booking-settings`, manager, {
    enabled: true, remoteEnabled: false, blockMinutes: 30, daysAhead: 14, earlyMinutes: 30, lateMinutes: 15, walkInCapMinutes: 15,
    bookedInRow: 2, perContactPerDay: 2, reminderMinutes: 60, remoteWindowMinutes: 30, bookingShare: 0.5,
  });
  expect(rules.status, rules.text).toBe(200);
  const capacity = await stack.api('PUT', `/sites/${stack.siteId}/booking-capacity`, manager, {
    blocks: [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ serviceId: stack.services.HT, weekday, starts: '10:00', capacity: 3 })),
  });
  expect(capacity.status, capacity.text).toBe(200);
  const channel = await stack.api('PUT', `/sites/${stack.siteId}/notification-channels/email`, manager, {
    enabled: true, settings: box.settings(),
  });
  expect(channel.status, channel.text).toBe(200);
});

describe('a booked citizen\'s morning', () => {
  it('books on the phone, gets the code by email, checks in by QR at the kiosk, is called at her slot ahead of later walk-ins, and rates', async () => {
    const { stack } = view;
    const { mails } = box;

    // --- 09:00, at home: the public page, civil status, today, 10:00
    const phone = await view.open('/c/PHUONG-DONG-CAM/', PHONE, { failedRequests: true });
    await phone.page.locator('#go-book').click();
    await phone.page.waitForURL(/\/book$/);
    await phone.page.locator('[data-service="HT"]').click();
    await phone.page.locator('[data-day]').first().click();
    const slot = phone.page.locator('[data-slot]').first();
    await slot.waitFor();
    expect(await slot.innerText()).toMatch(/^10:00–10:30\s+còn 3 chỗ$/);
    await slot.click();
    await phone.page.locator('#addr').fill(EMAIL);
    await phone.page.locator('#agree').check();
    await phone.page.locator('#send').click();
    await phone.page.locator('#verify').waitFor();
    await expect.poll(() => mails.filter((m) => m.to === EMAIL).length, { timeout: 15_000 }).toBe(1);
    const otp = /\b(\d{6})\b/.exec(mails[0]!.subject)![1]!;
    await phone.page.locator('#otp').fill(otp);
    await phone.page.locator('#confirm').click();
    await phone.page.waitForURL(/\/b\/[A-Za-z0-9_-]+$/);
    const bookingUrl = phone.page.url();
    await expect.poll(() => phone.page.locator('#status').innerText()).toBe('Đã xác nhận');
    expect(await phone.page.locator('#time').innerText()).toBe('10:00–10:30');
    // the QR code on her screen is the booking's link, as the kiosk's scanner will read it
    expect(await qrOf(phone.page, '#qr svg')).toBe(bookingUrl);
    await shot(phone.page, '1-booking-390x844');
    // the confirmation followed the code
    await expect.poll(() => mails.filter((m) => m.to === EMAIL).length, { timeout: 15_000 }).toBe(2);
    expect(mails[1]!.subject).toContain('10:00');

    // --- 09:46: a walk-in arrives (after 09:45, the booking's place in line)
    setTime('09:46');
    const kioskDevice = await stack.device('kiosk');
    const walkIn1 = await stack.api<{ ticket: { id: string; code: string } }>('POST', `/sites/${stack.siteId}/tickets`, kioskDevice.token, { serviceId: stack.services.HT });
    expect(walkIn1.status, walkIn1.text).toBe(201);

    // --- 09:50, at the centre: she holds her phone under the kiosk's scanner
    setTime('09:50');
    const kiosk = await view.open(`/kiosk/?pair=${(await stack.device('kiosk')).pairingCode}`, { width: 1080, height: 1920 });
    await kiosk.page.locator('[data-service="HT"]').waitFor();
    await kiosk.page.keyboard.type(bookingUrl, { delay: 5 });
    await kiosk.page.keyboard.press('Enter');
    await kiosk.page.getByTestId('ticket').waitFor();
    expect(await kiosk.page.getByTestId('ticket-booked').innerText()).toBe('ĐẶT LỊCH / BOOKED 10:00');
    const booked = await stack.t.db.selectFrom('ticket').select(['id', 'code', 'publicId', 'bookingKind']).where('bookingKind', '=', 'slot').executeTakeFirstOrThrow();
    expect(await kiosk.page.getByTestId('ticket-code').innerText()).toBe(booked.code);
    await shot(kiosk.page, '2-kiosk-ticket-1080x1920');
    // another walk-in at 09:52
    setTime('09:52');
    const walkIn2 = await stack.api<{ ticket: { id: string; code: string; position: number } }>('POST', `/sites/${stack.siteId}/tickets`, kioskDevice.token, { serviceId: stack.services.HT });
    expect(walkIn2.body.ticket.position).toBe(2);
    // the booking's page knows she checked in
    await phone.page.reload();
    await expect.poll(() => phone.page.locator('#status').innerText()).not.toBe('Đã xác nhận');

    // --- 10:00: the official of counter 1 opens it and presses F1
    setTime('10:00');
    const counter = await view.open('/counter/', { width: 1366, height: 768 });
    await counter.page.getByLabel('Tên đăng nhập').waitFor();
    await signIn(counter.page, 'canbo1');
    await counter.page.getByTestId('counter-1').click();
    await counter.page.keyboard.press('F9');
    await expect.poll(() => counter.page.getByTestId('counter-status').innerText()).toContain('Đang mở');
    await counter.page.keyboard.press('F1');
    await expect.poll(() => counter.page.getByTestId('current-code').innerText()).toBe(booked.code);
    expect(await counter.page.getByTestId('current-booked').innerText()).toBe('Đặt lịch 10:00');
    await shot(counter.page, '3-counter-called-1366x768');
    await counter.page.keyboard.press('F3');
    await expect.poll(() => counter.page.getByTestId('current-ticket').innerText()).toContain('Đang phục vụ');
    await counter.page.getByTestId('finish').click();
    await expect.poll(() => counter.page.getByTestId('current-ticket').innerText()).toContain('Chưa có số nào tại quầy');
    // the walk-ins follow, in their order
    await counter.page.keyboard.press('F1');
    await expect.poll(() => counter.page.getByTestId('current-code').innerText()).toBe(walkIn1.body.ticket.code);

    // --- she rates the official on her phone, from the ticket's page
    const rate = await view.open(`/t/${booked.publicId}`, PHONE, { failedRequests: true });
    await rate.page.getByRole('button', { name: 'Rất hài lòng', exact: true }).click();
    await expect.poll(() => rate.page.locator('#rated').innerText()).toBe('Cảm ơn bạn đã đánh giá!');
    await shot(rate.page, '4-rated-390x844');
    const canbo1 = await stack.t.db.selectFrom('appUser').select('id').where('username', '=', 'canbo1').executeTakeFirstOrThrow();
    const rating = await stack.t.db.selectFrom('rating').select(['score', 'staffId', 'channel']).where('ticketId', '=', booked.id).executeTakeFirstOrThrow();
    expect(rating).toEqual({ score: 3, staffId: canbo1.id, channel: 'phone' });

    // called at her slot: the call's time, and the booking's record
    const called = await stack.t.db.selectFrom('ticket').select(['calledAt', 'slotAt']).where('id', '=', booked.id).executeTakeFirstOrThrow();
    expect(called.calledAt!.getTime() - called.slotAt!.getTime()).toBeGreaterThanOrEqual(0);
    expect(called.calledAt!.getTime() - called.slotAt!.getTime()).toBeLessThan(5 * 60_000);
    const booking = await stack.t.db.selectFrom('booking').select(['status', 'ticketId']).executeTakeFirstOrThrow();
    expect(booking).toEqual({ status: 'checked_in', ticketId: booked.id });
    expect(await sql<{ n: number }>`SELECT count(*)::int AS n FROM ticket`.execute(stack.t.db).then((r) => r.rows[0]!.n)).toBe(3);
    expect([...phone.errors, ...kiosk.errors, ...counter.errors, ...rate.errors]).toEqual([]);
  }, 120_000);
});
