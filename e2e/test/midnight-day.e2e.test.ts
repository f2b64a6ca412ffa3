import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { TestClock } from '../../server/test/support/queue-fixture.ts';
import { launchBrowser, type TestBrowser } from '../support/browser.ts';
import { startStack, STAFF_PASSWORD, type Stack } from '../support/stack.ts';

// One working day of the demo centre in Chromium, across local midnight, with nobody pressing
// anything at midnight: the kiosk issues A001 and A002 on Friday evening, the counter calls and
// finishes A001 (the display shows the call, the tablet rates it), A002 is left waiting. The
// server's clock then passes midnight: A002 expires by itself, and the display, the counter, the
// kiosk and the citizen's phone page all say so. On Saturday the numbers start again at A001,
// the counter gets that new A001 (never yesterday's A002), and the console's reports count each
// day apart: Friday 2 issued, 1 served, 1 expired at day end; Saturday 1 issued, 1 served.
// The stack has no opening hours, so its day ends at local midnight. The server runs on a test
// clock and every screen takes its clock from the server, so the real date never matters.

const SHOTS = process.env.QMS_SCREENSHOTS ?? path.join(tmpdir(), 'qms-e2e-midnight');
mkdirSync(SHOTS, { recursive: true });

/** Friday 4 December 2026, 23:58 in Hà Nội */
const FRIDAY_EVENING = '2026-12-04T23:58:00+07:00';
/** Saturday, 30 seconds after local midnight */
const AFTER_MIDNIGHT = '2026-12-05T00:00:30+07:00';

const clock = new TestClock(FRIDAY_EVENING);
let stack: Stack;
let browser: TestBrowser;
const contexts: BrowserContext[] = [];
const errors: string[] = [];

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack({ clock: clock.now, dayEndCheckMs: 200 }), launchBrowser()]);
  console.log(`midnight screenshots: ${SHOTS}`);
});
afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await stack?.close();
});

async function open(url: string, size: { width: number; height: number }, name: string): Promise<Page> {
  const context = await browser.context(size);
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(8000);
  page.on('pageerror', (e) => errors.push(`${name}: ${e.message}`));
  await page.goto(`${stack.baseUrl}${url}`);
  return page;
}

async function api<T = any>(method: 'GET' | 'POST', url: string, token?: string, body?: object): Promise<{ status: number; body: T }> {
  const res = await fetch(`${stack.baseUrl}/api/v1${url}`, {
    method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const text = (page: Page, testId: string) => page.getByTestId(testId).first().innerText().catch(() => '');
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
const ticketByCode = (code: string) => stack.t.db.selectFrom('ticket').select(['id', 'publicId', 'status', 'issuedAt']).where('code', '=', code).orderBy('issuedAt').execute();

/** What the wall display shows: the big box, the counter rows' tickets, recent calls, waiting per prefix. */
async function board(page: Page) {
  return page.evaluate(() => ({
    now: document.querySelector('[data-testid="now-code"]')?.textContent?.trim() ?? null,
    nowCounter: document.querySelector('[data-testid="now-counter"]')?.textContent?.trim() ?? null,
    idle: !!document.querySelector('[data-testid="now"] .idle'),
    recent: [...document.querySelectorAll('[data-testid="recent"] li[data-code]')].map((li) => li.getAttribute('data-code')),
    counter1: document.querySelector('[data-counter="1"] [data-testid="counter-code"]')?.textContent?.trim() ?? null,
    waitingA: document.querySelector('[data-testid="waiting"] li[data-service="A"] .count')?.textContent?.trim() ?? null,
    date: document.querySelector('[data-testid="date"]')?.textContent?.trim() ?? null,
  }));
}

/** The kiosk's start screen: touch a field's tile, read the ticket, go back with "Xong". */
async function takeNumber(kiosk: Page, service: string): Promise<string> {
  await kiosk.locator(`[data-service="${service}"]`).click();
  const code = kiosk.getByTestId('ticket-code');
  await code.waitFor();
  const printed = await code.innerText();
  const done = kiosk.getByRole('button', { name: /^(Xong|Done)$/ });
  await expect.poll(() => done.isEnabled(), { timeout: 5000 }).toBe(true);
  await done.click();
  await kiosk.locator(`[data-service="${service}"]`).waitFor();
  return printed;
}

/**
 * The console's report for one local day (dd/mm/yyyy typed into both fields): the scope line and
 * the figures under it, read together the first time the scope names that day.
 */
async function showReport(manage: Page, day: string) {
  await manage.getByTestId('report-from').fill(day);
  await manage.getByTestId('report-to').fill(day);
  // each field checks itself against the other: the second fill may have changed the first's limit
  await manage.getByTestId('report-from').fill(day);
  await manage.getByTestId('report-load').click();
  const read = () => manage.evaluate(() => {
    const text = (selector: string) => (document.querySelector(selector) as HTMLElement | null)?.innerText ?? '';
    const kpis = [...document.querySelectorAll<HTMLElement>('[data-testid="kpis"] .kpi')].map((k) => k.innerText);
    return { scope: text('[data-testid="report-scope"]'), tickets: kpis[0] ?? '', served: kpis[1] ?? '', table: text('[data-testid="report-table"]') };
  });
  let shown = await read();
  await expect.poll(async () => (shown = await read()).scope, { timeout: 10_000, interval: 50 }).toContain(day);
  return shown;
}

async function summary(token: string, first: string, next: string) {
  const q = new URLSearchParams({ from: `${first}T00:00:00+07:00`, to: `${next}T00:00:00+07:00` });
  const res = await api('GET', `/sites/${stack.siteId}/reports/summary?${q}`, token);
  expect(res.status).toBe(200);
  return res.body.totals as {
    issued: number; served: number; expired: number; noShow: number; waits: number; ratings: number;
    waitAvgSeconds: number | null; serviceAvgSeconds: number | null;
  };
}

describe('a day across local midnight', () => {
  it('kiosk → display → counter → tablet on Friday evening; midnight ends A002 by itself; Saturday starts at A001; the console counts each day', async () => {
    const canbo1 = await stack.t.db.selectFrom('appUser').select(['id', 'displayName']).where('username', '=', 'canbo1').executeTakeFirstOrThrow();
    const [kioskDevice, displayDevice, ratingDevice] = [await stack.device('kiosk'), await stack.device('display'), await stack.device('rating', 1)];

    // ---- Friday 23:58: every screen, paired from its address
    const kiosk = await open(`/kiosk/?pair=${kioskDevice.pairingCode}`, { width: 1080, height: 1920 }, 'kiosk');
    await kiosk.locator('[data-service="HT"]').waitFor({ timeout: 10_000 });
    const display = await open(`/display/?pair=${displayDevice.pairingCode}`, { width: 1920, height: 1080 }, 'display');
    await display.getByTestId('board').waitFor({ timeout: 10_000 });
    // the display's date is the server's, whatever the real day
    await expect.poll(async () => (await board(display)).date).toBe('04/12/2026');
    const tablet = await open(`/rating/?pair=${ratingDevice.pairingCode}`, { width: 1280, height: 800 }, 'tablet');
    await expect.poll(() => text(tablet, 'idle'), { timeout: 10_000 }).toContain('Quầy 1');
    await tablet.clock.install(); // its thanks run on a clock the test moves on (Saturday, below)
    await tablet.reload();
    await expect.poll(() => text(tablet, 'idle'), { timeout: 10_000 }).toContain('Quầy 1');

    const counter = await open('/counter/', { width: 1366, height: 768 }, 'counter');
    await counter.getByLabel('Tên đăng nhập').fill('canbo1');
    await counter.getByLabel('Mật khẩu').fill(STAFF_PASSWORD);
    await counter.getByRole('button', { name: 'Đăng nhập' }).click();
    await counter.getByTestId('counter-1').click();
    await expect.poll(() => text(counter, 'counter-status')).toContain('Đang đóng');
    await counter.keyboard.press('F9');
    await expect.poll(() => text(counter, 'counter-status')).toContain('Đang mở');
    await expect.poll(() => text(tablet, 'idle'), { timeout: 5000 }).toContain(canbo1.displayName);

    // two citizens touch the Hộ tịch tile
    expect(await takeNumber(kiosk, 'HT')).toBe('A001');
    expect(await takeNumber(kiosk, 'HT')).toBe('A002');
    await expect.poll(() => kiosk.locator('[data-service="HT"]').innerText()).toContain('2 người đang chờ');
    const [fridayA001] = await ticketByCode('A001');
    const [a002] = await ticketByCode('A002');
    await expect.poll(() => text(counter, 'queue-panel')).toMatch(/Đang chờ\s*2/);
    await expect.poll(async () => (await board(display)).waitingA).toBe('2');

    // the second citizen follows the queue on a phone (its page polls every 12 s)
    const phone = await open(`/t/${a002!.publicId}`, { width: 390, height: 844 }, 'phone');
    await phone.clock.install();
    await phone.reload();
    expect(await phone.locator('#code').innerText()).toBe('A002');
    expect(await phone.locator('#s-waiting').isVisible()).toBe(true);

    // F1 calls A001 after 40 s: the display shows it in the big box and on counter 1's row
    clock.advance(40);
    await counter.keyboard.press('F1');
    await expect.poll(() => text(counter, 'current-code')).toBe('A001');
    await expect.poll(() => board(display), { timeout: 3000 }).toMatchObject({ now: 'A001', nowCounter: '1', counter1: 'A001', waitingA: '1' });
    clock.advance(5);
    await counter.keyboard.press('F3');
    await expect.poll(() => text(counter, 'current-ticket')).toContain('Đang phục vụ');
    clock.advance(60); // 23:59:45
    await counter.keyboard.press('F4');
    await expect.poll(() => text(counter, 'current-ticket')).toContain('Chưa có số nào tại quầy');
    await expect.poll(() => text(counter, 'today-served')).toBe('1');
    await expect.poll(() => text(counter, 'queue-panel')).toMatch(/Đang chờ\s*1/);

    // the tablet of counter 1 asks about A001; the citizen is very satisfied
    await expect.poll(() => text(tablet, 'ask'), { timeout: 5000 }).toContain('A001');
    await tablet.getByRole('button', { name: 'Rất hài lòng', exact: true }).click();
    await expect.poll(() => text(tablet, 'thanks')).toContain('Cảm ơn bạn đã đánh giá');
    expect(await stack.t.db.selectFrom('rating').select(['score', 'staffId']).where('ticketId', '=', fridayA001!.id).execute())
      .toEqual([{ score: 3, staffId: canbo1.id }]);

    // the display before midnight: A001 called to counter 1, one waiting for A
    await expect.poll(() => board(display)).toMatchObject({ now: 'A001', nowCounter: '1', counter1: null, waitingA: '1', date: '04/12/2026' });
    await shot(display, 'display-friday-2359-1920x1080');
    await shot(counter, 'counter-friday-2359-1366x768');
    expect((await api('GET', `/public/tickets/${a002!.publicId}`)).body.status).toBe('waiting');

    // ---- 00:00:30 Saturday: nobody presses anything
    clock.set(AFTER_MIDNIGHT);
    const midnight = Date.now();
    await expect.poll(async () => (await api('GET', `/public/tickets/${a002!.publicId}`)).body.status, { timeout: 5000, interval: 100 }).toBe('expired');
    // the display: a new day with nothing called yet and nobody waiting, yesterday's calls gone
    await expect.poll(() => board(display), { timeout: 5000 })
      .toMatchObject({ now: null, idle: true, recent: [], counter1: null, waitingA: '0', date: '05/12/2026' });
    // the counter: nobody waiting, and its official's day starts again
    await expect.poll(() => text(counter, 'queue-panel'), { timeout: 5000 }).toMatch(/Đang chờ\s*0/);
    await expect.poll(() => text(counter, 'next-list'), { timeout: 5000 }).not.toContain('A002');
    await expect.poll(() => text(counter, 'today-served'), { timeout: 5000 }).toBe('0');
    // the kiosk's tile
    await expect.poll(() => kiosk.locator('[data-service="HT"]').innerText(), { timeout: 5000 }).toContain('0 người đang chờ');
    console.log(`screens caught up with midnight in ${Date.now() - midnight} ms`);
    await shot(display, 'display-saturday-0000-1920x1080');
    await shot(counter, 'counter-saturday-0000-1366x768');

    // the phone page of A002, on its next poll, and opened afresh
    await phone.clock.fastForward(13_000);
    await expect.poll(() => phone.locator('#s-expired').isVisible(), { timeout: 5000 }).toBe(true);
    expect(await phone.locator('#s-expired').innerText()).toContain('Số thứ tự này đã hết hiệu lực');
    expect(await phone.locator('#s-waiting').isVisible()).toBe(false);
    await shot(phone, 'phone-expired-390x844');
    const fresh = await open(`/t/${a002!.publicId}`, { width: 390, height: 844 }, 'phone-fresh');
    expect(await fresh.locator('#s-expired').innerText()).toContain('Số thứ tự này đã hết hiệu lực');

    const ended = await stack.t.db.selectFrom('ticketEvent').select(['type', 'toStatus', 'staffId', 'deviceId', 'at']).where('ticketId', '=', a002!.id).orderBy('at').execute();
    expect(ended.at(-1)).toMatchObject({ type: 'expired', toStatus: 'expired', staffId: null, deviceId: null });

    // ---- Saturday: numbers start again at A001, and the counter calls that one
    await tablet.clock.fastForward(5_500); // past Friday's thanks
    await expect.poll(() => text(tablet, 'idle'), { timeout: 3000 }).toContain(canbo1.displayName);
    expect(await takeNumber(kiosk, 'HT')).toBe('A001');
    const saturdayA001 = (await ticketByCode('A001')).find((t) => t.id !== fridayA001!.id)!;
    expect(saturdayA001.issuedAt.getTime()).toBeGreaterThanOrEqual(Date.parse(AFTER_MIDNIGHT));
    await expect.poll(() => text(counter, 'queue-panel')).toMatch(/Đang chờ\s*1/);
    await expect.poll(() => board(display)).toMatchObject({ waitingA: '1' });

    clock.advance(20);
    await counter.keyboard.press('F1');
    await expect.poll(() => text(counter, 'current-code')).toBe('A001');
    const called = await stack.t.db.selectFrom('ticket').select(['id', 'status']).where('counterId', '=', stack.counters[1]!).where('status', '=', 'called').execute();
    expect(called).toEqual([{ id: saturdayA001.id, status: 'called' }]);
    expect((await ticketByCode('A002'))[0]!.status).toBe('expired');
    await expect.poll(() => board(display), { timeout: 3000 }).toMatchObject({ now: 'A001', nowCounter: '1', counter1: 'A001', waitingA: '0', recent: [] });
    await shot(display, 'display-saturday-called-1920x1080');

    clock.advance(5);
    await counter.keyboard.press('F3');
    await expect.poll(() => text(counter, 'current-ticket')).toContain('Đang phục vụ');
    clock.advance(90);
    await counter.keyboard.press('F4');
    await expect.poll(() => text(counter, 'current-ticket')).toContain('Chưa có số nào tại quầy');
    await expect.poll(() => text(counter, 'today-served')).toBe('1');
    await expect.poll(() => text(tablet, 'ask'), { timeout: 5000 }).toContain('A001');
    await tablet.getByRole('button', { name: 'Hài lòng', exact: true }).click();
    await expect.poll(() => text(tablet, 'thanks')).toContain('Cảm ơn bạn đã đánh giá');
    expect(await stack.t.db.selectFrom('rating').select(['score', 'staffId']).where('ticketId', '=', saturdayA001.id).execute())
      .toEqual([{ score: 2, staffId: canbo1.id }]);

    // ---- the console: each day's report
    const manage = await open('/manage/', { width: 1440, height: 900 }, 'console');
    await manage.getByLabel('Tên đăng nhập').fill('quanly');
    await manage.getByLabel('Mật khẩu').fill(STAFF_PASSWORD);
    await manage.getByRole('button', { name: 'Đăng nhập' }).click();
    await expect.poll(() => manage.getByTestId('site-PHUONG-DONG-CAM').getByTestId('connection').innerText(), { timeout: 10_000 }).toBe('Trực tuyến');
    // a slow link: each summary takes a second, so the manager types Friday while the report
    // the page opens with (the browser's today) is still on its way
    await manage.route('**/reports/summary?*', async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await route.continue();
    });
    await manage.getByTestId('tab-reports').click();
    await manage.getByTestId('report-from').waitFor();

    const friday = await showReport(manage, '04/12/2026');
    await shot(manage, 'console-report-friday-1440x900');
    expect(friday.tickets).toMatch(/^Số phiếu\s+2\s+0 huỷ · 1 hết hạn cuối ngày$/i);
    expect(friday.served).toMatch(/^Đã phục vụ\s+1\s+0 vắng mặt/i);
    expect(friday.table).toMatch(/Tư pháp – Hộ tịch\s+2\s+1\s+0\s/);
    const saturday = await showReport(manage, '05/12/2026');
    await shot(manage, 'console-report-saturday-1440x900');
    expect(saturday.tickets).toMatch(/^Số phiếu\s+1\s+0 huỷ$/i);
    expect(saturday.served).toMatch(/^Đã phục vụ\s+1\s+0 vắng mặt/i);
    expect(saturday.table).toMatch(/Tư pháp – Hộ tịch\s+1\s+1\s+0\s/);

    // the same figures from the API the console reads
    const { token } = (await api('POST', '/auth/login', undefined, { username: 'quanly', password: STAFF_PASSWORD })).body;
    const fridayTotals = await summary(token, '2026-12-04', '2026-12-05');
    expect(fridayTotals).toMatchObject({ issued: 2, served: 1, expired: 1, noShow: 0, waits: 1, ratings: 1 });
    // A001's 40 s; A002 was never called, so its evening is no wait
    expect(Math.round(fridayTotals.waitAvgSeconds!)).toBe(40);
    expect(Math.round(fridayTotals.serviceAvgSeconds!)).toBe(65); // from the call (API.md)
    const saturdayTotals = await summary(token, '2026-12-05', '2026-12-06');
    expect(saturdayTotals).toMatchObject({ issued: 1, served: 1, expired: 0, noShow: 0, waits: 1, ratings: 1 });
    expect(Math.round(saturdayTotals.waitAvgSeconds!)).toBe(20);
    expect(Math.round(saturdayTotals.serviceAvgSeconds!)).toBe(95);

    expect(errors).toEqual([]);
  }, 180_000);
});
