import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../support/browser.ts';
import { startStack, STAFF_PASSWORD, type Stack } from '../support/stack.ts';

// The citizen's phone page and the counter's rating tablet, open on one served ticket, in
// Chromium. Found in use: a phone page open during the tablet rating kept offering its own
// rating form. Rated on the tablet, the phone page now says it is rated (Vietnamese, English);
// rated on the phone, the tablet's question goes, saying why.

const SHOTS = process.env.QMS_SCREENSHOTS ?? path.join(tmpdir(), 'qms-e2e-rating-phone');
mkdirSync(SHOTS, { recursive: true });

let stack: Stack;
let browser: TestBrowser;
let tablet: Page;
let kioskToken: string;
let staffToken: string;
const contexts: BrowserContext[] = [];

async function api<T = any>(method: 'GET' | 'POST', url: string, token?: string, body?: object): Promise<{ status: number; body: T }> {
  const res = await fetch(`${stack.baseUrl}/api/v1${url}`, {
    method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function open(url: string, size: { width: number; height: number }): Promise<Page> {
  const context = await browser.context(size);
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(8000);
  await page.goto(`${stack.baseUrl}${url}`);
  return page;
}

/** A ticket of counter 1's service, called and finished there: the tablet asks about it. */
async function servedAtCounter1() {
  const issued = await api('POST', `/sites/${stack.siteId}/tickets`, kioskToken, { serviceId: stack.services.HT });
  expect(issued.status).toBe(201);
  const called = await api('POST', `/counters/${stack.counters[1]}/call-next`, staffToken);
  expect(called.body.ticket.id).toBe(issued.body.ticket.id);
  expect((await api('POST', `/tickets/${issued.body.ticket.id}/finish`, staffToken)).status).toBe(200);
  return issued.body.ticket as { id: string; publicId: string; code: string };
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
const visible = (page: Page, selector: string) => page.locator(selector).isVisible();
const ratings = (ticketId: string) => stack.t.db.selectFrom('rating').select(['score', 'channel']).where('ticketId', '=', ticketId).execute();

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  kioskToken = (await stack.device('kiosk')).token;
  staffToken = (await api('POST', '/auth/login', undefined, { username: 'canbo1', password: STAFF_PASSWORD })).body.token;
  expect((await api('POST', `/counters/${stack.counters[1]}/open`, staffToken)).status).toBe(200);
  const ratingDevice = await stack.device('rating', 1);
  tablet = await open(`/rating/?pair=${ratingDevice.pairingCode}`, { width: 1280, height: 800 });
  // the tablet's thanks and the phone page's poll run on clocks the tests move on, not wait for
  await tablet.clock.install();
  await tablet.reload();
  await tablet.getByTestId('idle').waitFor({ timeout: 10_000 });
});
afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await stack?.close();
});

describe('the phone page and the rating tablet on one ticket', () => {
  it('rated on the tablet: the phone page stops offering its form and says it is rated, in Vietnamese and English', async () => {
    const ticket = await servedAtCounter1();
    await expect.poll(() => tablet.getByTestId('ask').innerText().catch(() => ''), { timeout: 5000 }).toContain(ticket.code);
    const phone = await open(`/t/${ticket.publicId}`, { width: 390, height: 844 });
    await phone.clock.install();
    await phone.reload();
    expect(await visible(phone, '#rate')).toBe(true);
    await shot(phone, 'phone-offers-rating-390x844');

    await tablet.getByRole('button', { name: 'Rất hài lòng', exact: true }).click();
    await expect.poll(() => tablet.getByTestId('thanks').innerText().catch(() => '')).toContain('Cảm ơn bạn đã đánh giá');
    // the page polls every 5 s while its form is open
    await phone.clock.fastForward(5_500);
    await expect.poll(() => visible(phone, '#rate'), { timeout: 3000 }).toBe(false);
    expect(await phone.locator('#rated').innerText()).toBe('Số thứ tự này đã được đánh giá. Cảm ơn bạn!');
    await shot(phone, 'phone-rated-on-tablet-390x844');
    await phone.locator('#lang').click();
    expect(await phone.locator('#rated').innerText()).toBe('This ticket has already been rated. Thank you!');
    await shot(phone, 'phone-rated-on-tablet-en-390x844');
    expect(await ratings(ticket.id)).toEqual([{ score: 3, channel: 'tablet' }]);
  });

  it('rated on the phone: the tablet stops asking and says the citizen rated on the phone', async () => {
    await tablet.clock.fastForward(5_500); // past the thanks
    await expect.poll(() => tablet.getByTestId('idle').isVisible(), { timeout: 3000 }).toBe(true);
    const ticket = await servedAtCounter1();
    await expect.poll(() => tablet.getByTestId('ask').innerText().catch(() => ''), { timeout: 5000 }).toContain(ticket.code);
    const phone = await open(`/t/${ticket.publicId}`, { width: 390, height: 844 });
    await phone.getByRole('button', { name: 'Hài lòng', exact: true }).click();
    await expect.poll(() => phone.locator('#rated').innerText()).toBe('Cảm ơn bạn đã đánh giá!');

    await expect.poll(() => tablet.getByTestId('thanks').innerText().catch(() => ''), { timeout: 3000 })
      .toContain('Bạn đã đánh giá lượt phục vụ này trên điện thoại');
    await shot(tablet, 'tablet-rated-on-phone-1280x800');
    expect(await tablet.getByTestId('ask').count()).toBe(0);
    // and back to idle for the next citizen, once its thanks have been read
    await tablet.clock.fastForward(5_500);
    await expect.poll(() => tablet.getByTestId('idle').isVisible(), { timeout: 3000 }).toBe(true);
    expect(await ratings(ticket.id)).toEqual([{ score: 2, channel: 'phone' }]);
  });

  it('after a failed poll (a server restart) the page tries again within seconds, not after its 12 s period', async () => {
    const issued = await api('POST', `/sites/${stack.siteId}/tickets`, kioskToken, { serviceId: stack.services.HT });
    expect(issued.status).toBe(201);
    const context = await browser.context({ width: 390, height: 844 });
    contexts.push(context);
    const page = await context.newPage();
    await page.clock.install();
    await page.goto(`${stack.baseUrl}/t/${issued.body.ticket.publicId}`);
    const down = (route: { abort(code: string): Promise<void> }) => route.abort('connectionrefused');
    await page.route('**/api/v1/public/tickets/**', down);
    await page.clock.runFor(12_500); // the page's 12 s poll meets the server down
    await expect.poll(() => page.locator('#net').isVisible()).toBe(true);
    await page.unroute('**/api/v1/public/tickets/**', down);
    await page.clock.runFor(4_000); // the first retry: 3 s, ±25 %
    await expect.poll(() => page.locator('#net').isHidden(), { timeout: 5_000 }).toBe(true);
  });
});
