import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bitmapToRgba, decodeEscPos } from '@qms/hardware';
import { startTestPrinter, type TestPrinter } from '@qms/hardware/testing';
import { buildApp, type App } from '../../server/src/app.ts';
import type {} from '../../server/src/app/services.ts'; // app.services (its declaration merges into Fastify's)
import { launchBrowser, type TestBrowser } from '../support/browser.ts';
import { STAFF_PASSWORD, startStack, type Stack } from '../support/stack.ts';

// The kiosk in Chromium against the real server: pairing from the address, taking a number,
// the printed ticket's QR code opening the phone page, double taps, English, the procedure
// search, closed days, a server restart; screenshots at both kiosk orientations.

let stack: Stack;
let browser: TestBrowser;
let printer: TestPrinter;
let managerToken: string;
/** set when the restart test replaced the stack's server */
let restarted: App | undefined;
const contexts: BrowserContext[] = [];
const shots = process.env.KIOSK_SCREENSHOTS ?? path.join(tmpdir(), 'qms-kiosk-e2e');
mkdirSync(shots, { recursive: true });

beforeAll(async () => {
  [stack, browser, printer] = await Promise.all([startStack(), launchBrowser(), startTestPrinter()]);
  const login = await fetch(`${stack.baseUrl}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'quanly', password: STAFF_PASSWORD }),
  });
  managerToken = (await login.json()).token;
  console.log(`kiosk screenshots: ${shots}`);
});
afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await restarted?.close();
  await stack?.close();
  await printer?.close();
});

async function api(method: string, url: string, token: string, body?: unknown) {
  const res = await fetch(`${stack.baseUrl}/api/v1${url}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}

/** A new kiosk device, optionally with the test printer, paired by opening /kiosk/?pair=. */
async function kiosk(size: { width: number; height: number }, options: { printer?: boolean; ready?: string; clock?: boolean } = {}) {
  const device = await stack.device('kiosk');
  if (options.printer) {
    const set = await api('PUT', `/devices/${device.id}/printer`, managerToken, { kind: 'tcp', host: printer.host, port: printer.port });
    expect(set.status).toBe(200);
  }
  const context = await browser.context(size);
  contexts.push(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // a clock the test moves (it runs on by itself meanwhile): waits of 20 s take no time
  if (options.clock) await page.clock.install();
  await page.goto(`${stack.baseUrl}/kiosk/?pair=${device.pairingCode}`);
  await page.locator(options.ready ?? '[data-service="HT"]').waitFor();
  // the code left the address bar once used
  expect(new URL(page.url()).search).toBe('');
  return { page, device, errors };
}

const ticketCount = async () => Number((await stack.t.db.selectFrom('ticket').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, `${name}.png`) });

function qrOfPng(png: Buffer): string | null {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data ?? null;
}

/** The image of the last job the test printer received, and the QR read from it. */
function printedQr(): string | null {
  const job = printer.connections().map((bytes) => decodeEscPos(bytes)).filter((j) => j.image).at(-1);
  if (!job?.image) return null;
  return jsQR(bitmapToRgba(job.image), job.image.width, job.image.height)?.data ?? null;
}

/** Visible buttons smaller than 90 CSS px (about 24 mm at 96 dpi) in either direction. */
async function smallTargets(page: Page): Promise<string[]> {
  return page.evaluate(() => [...document.querySelectorAll('button')]
    .map((b) => ({ b, r: b.getBoundingClientRect() }))
    .filter(({ r }) => r.width > 0 && r.height > 0 && (r.width < 90 || r.height < 90))
    .map(({ b, r }) => `${b.textContent?.trim()} ${Math.round(r.width)}x${Math.round(r.height)}`));
}

async function backHome(page: Page) {
  const done = page.getByRole('button', { name: /^(Xong|Done)$/ });
  await expect.poll(() => done.isEnabled(), { timeout: 5000 }).toBe(true);
  await done.click();
  await page.locator('[data-service="HT"]').waitFor();
}

describe('the kiosk, portrait 1080x1920 with a network printer', () => {
  let page: Page;
  let errors: string[];

  it('pairs from ?pair=, shows the services with their queues, and takes a number that prints', async () => {
    ({ page, errors } = await kiosk({ width: 1080, height: 1920 }, { printer: true }));
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('vi');
    await expect.poll(() => page.locator('[data-service="HT"]').innerText()).toContain('0 người đang chờ');
    await expect.poll(() => page.locator('h1').innerText()).toBe('Mời chọn lĩnh vực cần giải quyết');
    await shot(page, 'portrait-home');
    expect(await smallTargets(page)).toEqual([]);

    printer.clear();
    await page.locator('[data-service="HT"]').click();
    const code = page.getByTestId('ticket-code');
    await code.waitFor();
    expect(await code.innerText()).toBe('A001');
    expect(await page.getByTestId('ticket').innerText()).toContain('Tư pháp – Hộ tịch');
    expect(await page.getByTestId('print-sent').innerText()).toBe('Mời bạn nhận phiếu in bên dưới.');
    await page.locator('.qr svg').waitFor();
    await shot(page, 'portrait-ticket');
    expect(await smallTargets(page)).toEqual([]);

    // the paper ticket: its QR code is the phone page of this ticket
    await printer.waitForJobs(2);
    const url = printedQr();
    expect(url).toMatch(new RegExp(`^${stack.baseUrl}/t/[A-Za-z0-9_-]{20,}$`));
    const stored = await stack.t.db.selectFrom('ticket').select(['publicId', 'code']).where('code', '=', 'A001').executeTakeFirstOrThrow();
    expect(url).toBe(`${stack.baseUrl}/t/${stored.publicId}`);
    // and the one on screen is the same
    expect(await page.locator('.qr').getAttribute('data-url')).toBe(url);
    expect(qrOfPng(await page.locator('.qr').screenshot())).toBe(url);

    // the QR opens the phone page with the same code, on a small phone
    const phoneContext = await browser.context({ width: 360, height: 740 });
    contexts.push(phoneContext);
    const phone = await phoneContext.newPage();
    await phone.clock.install();
    await phone.goto(url!);
    expect(await phone.locator('#code').innerText()).toBe('A001');
    expect(await phone.locator('#s-waiting').innerText()).toContain('Người đang chờ trước bạn');
    await shot(phone, 'phone-waiting');

    // called: the page notices on its next poll
    const staff = await fetch(`${stack.baseUrl}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'canbo1', password: STAFF_PASSWORD }),
    }).then((r) => r.json());
    expect((await api('POST', `/counters/${stack.counters[1]}/open`, staff.token, {})).status).toBe(200);
    expect((await api('POST', `/counters/${stack.counters[1]}/call-next`, staff.token, {})).body.ticket.code).toBe('A001');
    await phone.clock.fastForward(13_000);
    await phone.locator('#s-called').waitFor();
    expect(await phone.locator('#s-called').innerText()).toMatch(/Mời bạn đến quầy số\s*1/);
    await shot(phone, 'phone-called');
    await phone.locator('#lang').click();
    expect(await phone.locator('#s-called').innerText()).toMatch(/Please go to counter\s*1/);

    // served: the phone asks for a rating of that ticket, once
    const ticketId = (await stack.t.db.selectFrom('ticket').select('id').where('code', '=', 'A001').executeTakeFirstOrThrow()).id;
    expect((await api('POST', `/tickets/${ticketId}/finish`, staff.token, {})).status).toBe(200);
    await phone.clock.fastForward(13_000);
    await phone.locator('#rate').waitFor();
    await shot(phone, 'phone-rate');
    await phone.getByRole('button', { name: 'Very satisfied' }).click();
    await phone.getByText('Thank you for your rating!').waitFor();
    const rating = await stack.t.db.selectFrom('rating').select(['score', 'channel']).where('ticketId', '=', ticketId).executeTakeFirstOrThrow();
    expect(rating).toEqual({ score: 3, channel: 'phone' });
    await api('POST', `/counters/${stack.counters[1]}/close`, staff.token, {});

    await backHome(page);
    expect(errors).toEqual([]);
  });

  it('issues one ticket for a double tap, and for two clicks in the same instant', async () => {
    const before = await ticketCount();
    await page.locator('[data-service="CT"]').dblclick();
    await page.getByTestId('ticket-code').waitFor();
    expect(await page.getByTestId('ticket-code').innerText()).toBe('B001');
    await page.waitForTimeout(500);
    expect(await ticketCount()).toBe(before + 1);
    await backHome(page);

    await page.evaluate(() => {
      const button = document.querySelector<HTMLButtonElement>('[data-service="DD"]')!;
      button.click();
      button.click();
      button.click();
    });
    await page.getByTestId('ticket-code').waitFor();
    expect(await page.getByTestId('ticket-code').innerText()).toBe('C001');
    await page.waitForTimeout(500);
    expect(await ticketCount()).toBe(before + 2);
    await backHome(page);
  });

  it('switches to English with one tap, and back', async () => {
    await page.getByTestId('lang').click();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    expect(await page.locator('h1').innerText()).toBe('Please choose a service');
    expect(await page.locator('[data-service="HT"] .name').innerText()).toBe('Justice – Civil status');
    expect(await page.getByTestId('lang').innerText()).toBe('Tiếng Việt');
    await shot(page, 'portrait-home-en');
    await page.getByTestId('lang').click();
    expect(await page.locator('h1').innerText()).toBe('Mời chọn lĩnh vực cần giải quyết');
    // the demo centre takes no bookings: no check-in entry (e2e/test/kiosk-checkin.e2e.test.ts has it)
    expect(await page.getByTestId('booking').count()).toBe(0);
  });

  it('finds "khai sinh" typed on the on-screen keyboard without marks, and with marks, with its field and counters', async () => {
    await page.getByTestId('search').click();
    for (const key of 'khai sinh') await page.locator(`[data-key="${key === ' ' ? 'space' : key}"]`).click();
    expect(await page.getByTestId('query').inputValue()).toBe('khai sinh');
    const hit = page.locator('[data-procedure="1.001193"]');
    await hit.waitFor();
    const text = await hit.innerText();
    expect(text).toContain('Đăng ký khai sinh');
    expect(text).toContain('Tư pháp – Hộ tịch');
    expect(text).toContain('Quầy 1, 2');
    expect(await page.locator('[data-procedure]').count()).toBe(1);
    await shot(page, 'portrait-search');
    expect(await smallTargets(page)).toEqual([]);

    await page.locator('[data-key="clear"]').click();
    // a physical keyboard with Vietnamese letters (kiosk.citizen.e2e.test.ts types them every way)
    await page.keyboard.type('Đăng ký khai sinh');
    expect(await page.getByTestId('query').inputValue()).toBe('Đăng ký khai sinh');
    expect(await page.locator('[data-procedure]').count()).toBe(1);
    expect(await hit.innerText()).toContain('Quầy 1, 2');

    await page.locator('[data-key="clear"]').click();
    for (const key of 'xyzw') await page.locator(`[data-key="${key}"]`).click();
    expect(await page.getByTestId('results').innerText()).toContain('Không tìm thấy thủ tục phù hợp');
    await page.getByRole('button', { name: 'Quay lại' }).click();
    await page.locator('[data-service="HT"]').waitFor();
  });

  it('takes a priority number through the priority groups', async () => {
    await page.getByTestId('priority').click();
    await page.locator('[data-priority="elderly"]').waitFor();
    await shot(page, 'portrait-priority');
    await page.locator('[data-priority="elderly"]').click();
    await page.locator('[data-service="CA"]').click();
    await page.getByTestId('ticket-code').waitFor();
    expect(await page.getByTestId('ticket').innerText()).toContain('Ưu tiên: Người cao tuổi (từ 60 tuổi)');
    const ticket = await stack.t.db.selectFrom('ticket').select(['priority', 'code']).orderBy('issuedAt', 'desc').executeTakeFirstOrThrow();
    expect(ticket).toEqual({ priority: 'elderly', code: 'F001' });
    await backHome(page);
  });

  it('says so when the printer is out of paper, keeps the ticket and QR on screen, and alerts staff', async () => {
    printer.setState({ paperOut: true });
    await page.locator('[data-service="KD"]').click();
    const failed = page.getByTestId('print-failed');
    await failed.waitFor();
    expect(await failed.innerText()).toContain('Máy in đã hết giấy.');
    expect(await page.getByTestId('ticket-code').innerText()).toBe('D001');
    await page.locator('.qr svg').waitFor();
    const url = await page.locator('.qr').getAttribute('data-url');
    expect(qrOfPng(await page.locator('.qr').screenshot())).toBe(url);
    await shot(page, 'portrait-ticket-paper-out');
    const alert = await stack.t.db.selectFrom('alert').select(['kind', 'data']).where('kind', '=', 'printer').executeTakeFirstOrThrow();
    expect(alert.data).toMatchObject({ reason: 'paper_out', ticketCode: 'D001' });

    await backHome(page);
    expect(await page.locator('.banner').innerText()).toContain('Máy in đang gặp sự cố');
    printer.setState({ paperOut: false });
    expect(errors).toEqual([]);
  });
});

describe('pairing on the keypad', () => {
  it('pairs with the six digits typed on the keypad, refuses a wrong code, and goes back to pairing when revoked', async () => {
    const device = await stack.device('kiosk');
    const context = await browser.context({ width: 1080, height: 1920 });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${stack.baseUrl}/kiosk/`);
    await page.getByTestId('pair').waitFor();
    expect(await page.getByTestId('pair').innerText()).toContain('Nhập mã ghép nối 6 chữ số');
    expect(await smallTargets(page)).toEqual([]);
    const wrong = device.pairingCode === '000000' ? '111111' : '000000';
    for (const digit of wrong) await page.locator(`[data-digit="${digit}"]`).click();
    await page.getByRole('button', { name: 'Ghép nối' }).click();
    await page.getByText('Mã không đúng hoặc đã hết hạn').waitFor();
    // a display's code typed on the kiosk (typed on a keyboard this time): refused, stays pairing
    const display = await stack.device('display');
    await page.keyboard.type(display.pairingCode);
    await page.keyboard.press('Enter');
    await page.getByText('Mã này dành cho loại thiết bị khác, không phải ki-ốt.').waitFor();
    expect(await page.getByTestId('pair').isVisible()).toBe(true);
    for (const digit of device.pairingCode) await page.locator(`[data-digit="${digit}"]`).click();
    await shot(page, 'portrait-pair');
    await page.getByRole('button', { name: 'Ghép nối' }).click();
    await page.locator('[data-service="HT"]').waitFor();

    // still paired after a reload (the token is kept), back to the keypad once revoked
    await page.reload();
    await page.locator('[data-service="HT"]').waitFor();
    expect((await api('DELETE', `/devices/${device.id}`, managerToken)).status).toBe(204);
    await page.getByTestId('pair').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('pair').innerText()).toContain('Ki-ốt cần được ghép nối lại');
  });
});

describe('the kiosk, landscape 1920x1080 without a printer', () => {
  let page: Page;
  let errors: string[];

  it('draws every screen at 1920x1080', async () => {
    ({ page, errors } = await kiosk({ width: 1920, height: 1080 }));
    await shot(page, 'landscape-home');
    expect(await smallTargets(page)).toEqual([]);
    await page.getByTestId('search').click();
    for (const key of 'dang ky') await page.locator(`[data-key="${key === ' ' ? 'space' : key}"]`).click();
    await page.locator('[data-procedure]').first().waitFor();
    await shot(page, 'landscape-search');
    expect(await smallTargets(page)).toEqual([]);
    await page.getByRole('button', { name: 'Quay lại' }).click();
    await page.getByTestId('priority').click();
    await shot(page, 'landscape-priority');
    expect(await smallTargets(page)).toEqual([]);
    await page.locator('[data-priority="disability"]').click();
    await shot(page, 'landscape-priority-services');
    await page.locator('[data-service="XH"]').click();
    await page.getByTestId('ticket-code').waitFor();
    await page.locator('.qr svg').waitFor();
    expect(await page.getByTestId('ticket').innerText()).toContain('Vui lòng ghi nhớ số thứ tự hoặc quét mã QR.');
    await shot(page, 'landscape-ticket');
    expect(await smallTargets(page)).toEqual([]);
    await backHome(page);
  });

  it('goes back to the start screen, in Vietnamese, after 20 s without a touch', async () => {
    const { page } = await kiosk({ width: 1920, height: 1080 }, { clock: true });
    await page.getByTestId('lang').click();
    await page.getByTestId('search').click();
    await page.locator('[data-key="a"]').click();
    const h1 = page.locator('h1');
    expect(await h1.innerText()).toBe('Which counter handles my procedure?');
    await page.clock.fastForward(15_000); // (its clock runs on meanwhile, as a kiosk's does)
    await page.waitForTimeout(1_200); // a tick or more of its own
    expect(await h1.innerText()).toBe('Which counter handles my procedure?');
    await page.clock.fastForward(6_000);
    await expect.poll(() => h1.innerText(), { timeout: 3_000 }).toBe('Mời chọn lĩnh vực cần giải quyết');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('vi');
  });

  it('explains a refusal of the server (closed today) with when to come back', async () => {
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(stack.now());
    // (the next opening is tomorrow, any day of the week: Sunday's name is "Chủ Nhật", not "Thứ …")
    // the kiosk still believes the centre open: the server's SITE_CLOSED must read as a message
    await stack.t.db.insertInto('holiday').values({ siteId: stack.siteId, date: today, name: 'e2e' }).execute();
    await stack.t.db.insertInto('openingHours').values([1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ siteId: stack.siteId, weekday, opens: '07:30', closes: '17:00' }))).execute();
    // changed by hand, so no site:updated: the server would see it within the 5 s it keeps an
    // issue's settings (server/src/queue/site-settings.cache.ts); told, it sees it at once
    stack.app.services.queue.forgetSettings(stack.siteId);
    try {
      await page.locator('[data-service="HT"]').click();
      const notice = page.getByTestId('notice');
      await notice.waitFor();
      expect(await notice.getAttribute('data-kind')).toBe('site_closed');
      expect(await notice.innerText()).toMatch(/Trung tâm hiện không làm việc[\s\S]*Mời quay lại lúc 07:30, (Thứ (Hai|Ba|Tư|Năm|Sáu|Bảy)|Chủ Nhật) \d\d\/\d\d\/\d{4}\./);
      await shot(page, 'landscape-notice-closed');
      await page.getByRole('button', { name: 'Về màn hình chính' }).click();

      // a kiosk that loads the configuration now shows the closed state itself
      const { page: closedPage } = await kiosk({ width: 1080, height: 1920 }, { ready: '[data-testid="closed"]' });
      expect(await closedPage.locator('[data-service]').count()).toBe(0);
      expect(await closedPage.getByTestId('closed').innerText()).toContain('Hôm nay là ngày nghỉ');
      await shot(closedPage, 'portrait-closed');
    } finally {
      await stack.t.db.deleteFrom('holiday').where('name', '=', 'e2e').execute();
      await stack.t.db.deleteFrom('openingHours').execute();
      stack.app.services.queue.forgetSettings(stack.siteId);
    }
  });

  it('explains every other refusal in words: field full for the session, too many tickets, no network', async () => {
    const { page } = await kiosk({ width: 1920, height: 1080 }, { clock: true });
    const refusals: [string, (route: import('playwright-core').Route) => Promise<void>, RegExp][] = [
      ['service_closing', (route) => route.fulfill({
        status: 409, contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'SERVICE_CLOSING', message: 'x', details: { closesAt: '2026-11-24T11:30:00.000+07:00', estimatedWaitSeconds: 5400 } } }),
      }), /Đã hết lượt tiếp nhận trong buổi này[\s\S]*vượt quá giờ kết thúc buổi làm việc \(11:30\)/],
      ['rate_limited', (route) => route.fulfill({ status: 429, contentType: 'application/json', body: JSON.stringify({ error: { code: 'RATE_LIMITED', message: 'x' } }) }), /Vui lòng chờ một chút/],
      ['unavailable', (route) => route.abort('connectionrefused'), /Tạm thời gián đoạn, vui lòng chờ/],
    ];
    for (const [kind, answer, text] of refusals) {
      await page.route('**/api/v1/sites/*/tickets', answer);
      await page.clock.fastForward(1600); // past the guard against double taps
      await page.locator('[data-service="HT"]').click();
      const notice = page.getByTestId('notice');
      // no answer at all is retried under the press's key for 20 s before it is a notice
      if (kind === 'unavailable') {
        for (let s = 0; s < 25 && !(await notice.isVisible()); s += 2) await page.clock.runFor(2_000);
      }
      await notice.waitFor({ timeout: 5_000 });
      expect(await notice.getAttribute('data-kind')).toBe(kind);
      expect(await notice.innerText()).toMatch(text);
      if (kind === 'service_closing') await shot(page, 'landscape-notice-service-closing');
      await page.unroute('**/api/v1/sites/*/tickets');
      await page.getByRole('button', { name: 'Về màn hình chính' }).click();
    }
  });

  it('retries a press whose answer was lost under the same key: the ticket is shown, and there is one', async () => {
    const before = await ticketCount();
    const keys: string[] = [];
    let lost = false;
    await page.route('**/api/v1/sites/*/tickets', async (route) => {
      keys.push(route.request().headers()['idempotency-key'] ?? '');
      if (lost) return route.continue();
      // the request reaches the server and makes the ticket; its answer never reaches the kiosk
      lost = true;
      await route.fetch();
      await route.abort('connectionreset');
    });
    try {
      await page.waitForTimeout(1600); // past the guard against double taps
      await page.locator('[data-service="HT"]').click();
      await page.getByTestId('ticket-code').waitFor();
      const shown = await page.getByTestId('ticket-code').innerText();
      expect(keys).toHaveLength(2);
      expect(keys[0]).toMatch(/^[0-9a-f]{32}$/);
      expect(keys[1]).toBe(keys[0]);
      expect(await ticketCount()).toBe(before + 1);
      const latest = await stack.t.db.selectFrom('ticket').select('code').orderBy('issuedAt', 'desc').executeTakeFirstOrThrow();
      expect(shown).toBe(latest.code);
    } finally {
      await page.unroute('**/api/v1/sites/*/tickets');
    }
    await backHome(page);
    // the next press is a new key
    keys.length = 0;
  });

  it('a press left without any answer until the kiosk gives up, pressed again, gets the ticket it made: one, not two', async () => {
    const { page: alone, errors } = await kiosk({ width: 1080, height: 1920 }, { clock: true });
    const before = await ticketCount();
    const keys: string[] = [];
    let answering = false;
    await alone.route('**/api/v1/sites/*/tickets', async (route) => {
      keys.push(route.request().headers()['idempotency-key'] ?? '');
      if (answering) return route.continue();
      // the first attempt reaches the server and makes the ticket; no attempt gets an answer
      if (keys.length === 1) await route.fetch();
      await route.abort('connectionreset');
    });
    try {
      await alone.locator('[data-service="HT"]').click();
      const notice = alone.getByTestId('notice');
      for (let s = 0; s < 25 && !(await notice.isVisible()); s += 2) await alone.clock.runFor(2_000);
      await notice.waitFor({ timeout: 5_000 });
      expect(await notice.getAttribute('data-kind')).toBe('unavailable');
      expect(keys.length).toBeGreaterThan(2);
      expect(new Set(keys).size).toBe(1);
      expect(await ticketCount()).toBe(before + 1);
      await alone.getByRole('button', { name: 'Về màn hình chính' }).click();
      // the server answers again; the citizen presses again: the ticket the first press made
      answering = true;
      await alone.clock.runFor(2_000); // past the guard against double taps
      await alone.locator('[data-service="HT"]').click();
      await alone.getByTestId('ticket-code').waitFor();
      expect(keys.at(-1)).toBe(keys[0]);
      expect(await ticketCount()).toBe(before + 1);
      const made = await stack.t.db.selectFrom('ticket').select('code').orderBy('issuedAt', 'desc').executeTakeFirstOrThrow();
      expect(await alone.getByTestId('ticket-code').innerText()).toBe(made.code);
      // the press after it is a new one
      await backHome(alone);
      await alone.clock.runFor(2_000);
      await alone.locator('[data-service="HT"]').click();
      await alone.getByTestId('ticket-code').waitFor();
      expect(keys.at(-1)).not.toBe(keys[0]);
      expect(await ticketCount()).toBe(before + 2);
      expect(errors).toEqual([]);
    } finally {
      await alone.unroute('**/api/v1/sites/*/tickets');
    }
  });

  it('survives a server restart: calm overlay while it is down, back by itself, then issues again', { timeout: 60_000 }, async () => {
    const port = Number(new URL(stack.baseUrl).port);
    await stack.app.close();
    await page.getByTestId('unavailable').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('unavailable').innerText()).toContain('Tạm thời gián đoạn, vui lòng chờ');
    await shot(page, 'landscape-unavailable');

    restarted = await buildApp({ db: stack.t.db, serveUi: true, config: { rateLimits: false }, allowLoopbackPrinters: true, clock: stack.now });
    await restarted.listen({ port, host: '127.0.0.1' });
    await page.getByTestId('unavailable').waitFor({ state: 'detached', timeout: 20_000 });
    const before = await ticketCount();
    await page.locator('[data-service="CT"]').click();
    await page.getByTestId('ticket-code').waitFor();
    expect(await ticketCount()).toBe(before + 1);
    expect(errors).toEqual([]);
  });
});
