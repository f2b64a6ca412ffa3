import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type QmsClient } from '@qms/protocol/client';
import { launchBrowser, type TestBrowser } from '../support/browser.ts';
import { STAFF_PASSWORD, startStack, type Stack } from '../support/stack.ts';
import { signIn } from '../support/pages.ts';

// Each screen, the phone page and the API docs in Chromium under the policy the server sends:
// they work in full (paired, signed in, a call announced with its clips, sockets live) and the
// browser reports no policy violation; an inline script slipped into a screen is refused, and
// no page can be framed by another.

let stack: Stack;
let browser: TestBrowser;
let kiosk: QmsClient;
const contexts: BrowserContext[] = [];
const shots = process.env.CSP_SCREENSHOTS ?? path.join(tmpdir(), 'qms-csp-e2e');
mkdirSync(shots, { recursive: true });

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  kiosk = createClient({ baseUrl: stack.baseUrl, token: (await stack.device('kiosk')).token });
  console.log(`security header screenshots: ${shots}`);
});
afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await stack?.close();
});

interface Watched {
  page: Page;
  /** the main document's response */
  response: Response;
  /** securitypolicyviolation events and CSP console messages, as text */
  violations: string[];
  errors: string[];
}

/** Opens a page that records every policy violation: the DOM event and Chromium's console line. */
async function open(url: string, size = { width: 1280, height: 800 }): Promise<Watched> {
  const context = await browser.context(size);
  contexts.push(context);
  await context.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const violations: string[] = [];
  const errors: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  const response = await page.goto(`${stack.baseUrl}${url}`);
  return { page, response: response!, violations, errors };
}

/** Everything recorded so far, after the page had a moment to report late violations. */
async function allViolations(w: Watched): Promise<string[]> {
  await w.page.waitForTimeout(300);
  const fromPage = await w.page.evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? []);
  return [...w.violations, ...fromPage];
}

function expectHeaders(response: Response) {
  const h = response.headers();
  expect(h['content-security-policy']).toMatch(/frame-ancestors 'none'/);
  expect(h['content-security-policy']).toMatch(/script-src '(self|nonce-[^']+)'(;|$)/);
  expect(h['content-security-policy']).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  expect(h['x-content-type-options']).toBe('nosniff');
  expect(h['x-frame-options']).toBe('DENY');
  expect(h['referrer-policy']).toMatch(/^(same-origin|no-referrer)$/);
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, `${name}.png`) });

describe('every page under its Content-Security-Policy in Chromium', () => {
  it('/kiosk/ pairs, takes a number and shows its QR code without a violation', async () => {
    const device = await stack.device('kiosk');
    const w = await open(`/kiosk/?pair=${device.pairingCode}`, { width: 1080, height: 1920 });
    expectHeaders(w.response);
    await w.page.locator('[data-service="HT"]').click();
    await w.page.getByTestId('ticket-code').waitFor();
    await w.page.locator('.qr svg').waitFor();
    await shot(w.page, 'kiosk');
    expect(await allViolations(w)).toEqual([]);
    expect(w.errors).toEqual([]);
  });

  it('/display/ pairs and announces a call with its voice clips without a violation', async () => {
    const device = await stack.device('display');
    const w = await open(`/display/?pair=${device.pairingCode}`);
    expectHeaders(w.response);
    await w.page.getByTestId('board').waitFor();
    const official = createClient({ baseUrl: stack.baseUrl });
    await official.login('canbo2', STAFF_PASSWORD);
    await official.openCounter(stack.counters[2]!);
    await kiosk.issueTicket(stack.siteId, { serviceId: stack.services.HT! });
    const called = await official.callNext(stack.counters[2]!);
    // the clips were fetched from this server and played (the display logs each announcement)
    await expect.poll(() => w.page.evaluate(() => ((window as unknown as { __qmsVoiceLog?: unknown[] }).__qmsVoiceLog ?? []).length), { timeout: 30_000 })
      .toBeGreaterThanOrEqual(1);
    expect(await w.page.locator('body').innerText()).toContain(called!.code);
    await shot(w.page, 'display');
    expect(await allViolations(w)).toEqual([]);
    expect(w.errors).toEqual([]);
  });

  it('/counter/ signs in and opens a counter without a violation', async () => {
    const w = await open('/counter/');
    expectHeaders(w.response);
    await signIn(w.page, 'canbo3');
    await w.page.getByTestId('counter-3').click();
    await w.page.getByTestId('primary-action').waitFor();
    await shot(w.page, 'counter');
    expect(await allViolations(w)).toEqual([]);
    expect(w.errors).toEqual([]);
  });

  it('/rating/ pairs and shows its idle screen without a violation', async () => {
    const device = await stack.device('rating', 1);
    const w = await open(`/rating/?pair=${device.pairingCode}`, { width: 800, height: 1280 });
    expectHeaders(w.response);
    await w.page.getByTestId('idle').waitFor();
    await shot(w.page, 'rating');
    expect(await allViolations(w)).toEqual([]);
    expect(w.errors).toEqual([]);
  });

  it('/manage/ signs in, follows a ticket live and opens the configuration without a violation', async () => {
    const w = await open('/manage/');
    expectHeaders(w.response);
    await signIn(w.page, 'quanly');
    const site = w.page.getByTestId('site-PHUONG-DONG-CAM');
    await expect.poll(() => site.getByTestId('connection').innerText(), { timeout: 10_000 }).toBe('Trực tuyến');
    // a ticket issued now reaches the monitor over the socket
    const issued = await kiosk.issueTicket(stack.siteId, { serviceId: stack.services.CT! });
    await expect.poll(() => w.page.getByTestId('activity').innerText(), { timeout: 5000 }).toContain(issued.code);
    await shot(w.page, 'manage');
    // the devices screen: a kiosk printer on a link-local address (a cloud's metadata service) is refused, in words
    const device = await stack.device('kiosk');
    await w.page.getByTestId('tab-config').click();
    await w.page.getByTestId('config-tab-devices').click();
    await w.page.getByTestId(`printer-${device.id}`).click();
    await w.page.locator('[data-printer-kind="tcp"]').check();
    await w.page.getByTestId('printer-host').fill('169.254.169.254');
    await w.page.getByTestId('printer-port').fill('80');
    await w.page.getByTestId('save-printer').click();
    await expect.poll(() => w.page.getByTestId(`error-printer-${device.id}`).innerText()).toContain('Địa chỉ này không thể là máy in');
    await w.page.getByTestId('printer-panel').scrollIntoViewIfNeeded();
    await shot(w.page, 'manage-printer-refused');
    expect(await allViolations(w)).toEqual([]);
    expect(w.errors).toEqual([]);
  });

  it('the phone page (/t/:publicId) keeps its inline script working under its nonce', async () => {
    const issued = await kiosk.issueTicket(stack.siteId, { serviceId: stack.services.HT! });
    const w = await open(`/t/${issued.publicId}`, { width: 390, height: 844 });
    expectHeaders(w.response);
    // the script ran: it wires the language button, which re-renders the page in English
    await w.page.locator('#lang').click();
    await expect.poll(() => w.page.evaluate(() => document.documentElement.lang)).toBe('en');
    await shot(w.page, 'phone');
    expect(await allViolations(w)).toEqual([]);
    expect(w.errors).toEqual([]);
  });

  it('/api/docs renders the API with swagger-ui without a violation', async () => {
    const w = await open('/api/docs');
    expect(w.response.url()).toContain('/api/docs');
    expectHeaders(w.response);
    await w.page.locator('.opblock-tag').first().waitFor();
    await shot(w.page, 'api-docs');
    expect(await allViolations(w)).toEqual([]);
    expect(w.errors).toEqual([]);
  });

  it('an unknown address answers with the same headers', async () => {
    for (const url of ['/no-such-page', '/kiosk/no/such/route', '/api/v1/no-such-call']) {
      const res = await fetch(`${stack.baseUrl}${url}`);
      expect(res.headers.get('content-security-policy'), url).toMatch(/frame-ancestors 'none'/);
      expect(res.headers.get('x-content-type-options'), url).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), url).toBe('DENY');
    }
  });

  it('refuses an inline script slipped into a screen, and a screen inside a foreign frame', async () => {
    const w = await open('/manage/');
    await w.page.getByLabel('Tên đăng nhập').waitFor();
    const ran = await w.page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__injected = true';
      document.head.append(s);
      return (window as unknown as { __injected?: boolean }).__injected === true;
    });
    expect(ran).toBe(false);
    expect((await allViolations(w)).some((v) => v.includes('script-src'))).toBe(true);

    // another site's page framing the manager console gets nothing of it
    const context = await browser.context();
    contexts.push(context);
    const foreign = await context.newPage();
    const refused: string[] = [];
    foreign.on('console', (m) => refused.push(m.text()));
    await foreign.setContent(`<iframe src="${stack.baseUrl}/manage/" width="800" height="600"></iframe>`);
    await expect.poll(() => refused.join('\n')).toMatch(/frame-ancestors 'none'/);
    const frame = foreign.frames().find((f) => f !== foreign.mainFrame());
    expect(await frame?.locator('input').count().catch(() => 0) ?? 0).toBe(0);
  });
});
