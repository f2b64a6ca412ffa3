import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../support/browser.ts';
import { startStack, STAFF_PASSWORD, type Stack } from '../support/stack.ts';

// What a citizen reads and types at the kiosk, in Chromium against the real server: Vietnamese
// typed on a physical keyboard (letters outside the US layout, an input method's composition)
// reaches the procedure search whole; a kiosk closed for a holiday names the holiday; and with
// every counter closed, the kiosk, the phone page and the manager's monitor say that nobody
// serves yet instead of promising "< 1 phút", until a counter opens.

let stack: Stack;
let browser: TestBrowser;
const contexts: BrowserContext[] = [];
const shots = process.env.KIOSK_SCREENSHOTS ?? path.join(tmpdir(), 'qms-kiosk-e2e');
mkdirSync(shots, { recursive: true });
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, `${name}.png`) });

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  console.log(`kiosk screenshots: ${shots}`);
});
afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await stack?.close();
});

const api: Stack['api'] = (...args) => stack.api(...args);
const login = (username: string) => stack.login(username);

async function kiosk(size: { width: number; height: number }, ready = '[data-service="HT"]') {
  const device = await stack.device('kiosk');
  const context = await browser.context(size);
  contexts.push(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${stack.baseUrl}/kiosk/?pair=${device.pairingCode}`);
  await page.locator(ready).waitFor();
  return { page, errors };
}

/** What the search box holds, whatever element shows it. */
const query = (page: Page) => page.getByTestId('query').evaluate((el) => (el instanceof HTMLInputElement ? el.value : el.textContent ?? ''));

describe('the procedure search, typed on a physical keyboard', () => {
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    ({ page, errors } = await kiosk({ width: 1080, height: 1920 }));
    await page.getByTestId('search').click();
    await page.getByTestId('results').waitFor();
  });

  it('keeps every letter of "Đăng ký kết hôn" typed key by key, and finds the procedure', async () => {
    // letters outside the US layout arrive as text input, with no keydown of their own
    await page.keyboard.type('Đăng ký kết hôn');
    expect(await query(page)).toBe('Đăng ký kết hôn');
    const hit = page.locator('[data-procedure="1.000894"]');
    await hit.waitFor();
    expect(await hit.innerText()).toContain('Đăng ký kết hôn');
    await shot(page, 'portrait-search-typed');

    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    expect(await query(page)).toBe('Đăng ký kết h');
    await page.keyboard.press('Escape');
    expect(await query(page)).toBe('');
  });

  it('takes text an input method commits at once, and its composition (Telex: "dd" → "đ")', async () => {
    await page.keyboard.insertText('Đăng ký ');
    expect(await query(page)).toBe('Đăng ký ');
    // an input method composing "kết" (k, ke, kê, kết), then committing it
    const cdp = await page.context().newCDPSession(page);
    for (const text of ['k', 'ke', 'kê', 'kêt', 'kết']) {
      await cdp.send('Input.imeSetComposition', { text, selectionStart: text.length, selectionEnd: text.length });
    }
    await cdp.send('Input.insertText', { text: 'kết' });
    await page.keyboard.type(' hôn');
    expect(await query(page)).toBe('Đăng ký kết hôn');
    await page.locator('[data-procedure="1.000894"]').waitFor();
    expect(await page.locator('[data-procedure]').count()).toBe(1);
  });

  it('mixes the on-screen keys and the keyboard, wherever the last tap was', async () => {
    await page.locator('[data-key="clear"]').click();
    for (const key of 'dang ') await page.locator(`[data-key="${key === ' ' ? 'space' : key}"]`).click();
    await page.keyboard.type('ký');
    expect(await query(page)).toBe('dang ký');
    // a tap on the list of results, then more typing: still into the search
    await page.getByTestId('results').click({ position: { x: 5, y: 5 } });
    await page.keyboard.type(' kết hôn');
    expect(await query(page)).toBe('dang ký kết hôn');
    await page.locator('[data-key="backspace"]').click();
    expect(await query(page)).toBe('dang ký kết hô');
    expect(errors).toEqual([]);
  });
});

describe('a kiosk closed for a holiday', () => {
  it('names the holiday, in Vietnamese and in English', async () => {
    // the site's local date now, as the kiosk (on the server's clock) reads it
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(stack.now());
    await stack.t.db.insertInto('holiday').values({ siteId: stack.siteId, date: today, name: 'Giỗ Tổ Hùng Vương' }).execute();
    try {
      const { page, errors } = await kiosk({ width: 1080, height: 1920 }, '[data-testid="closed"]');
      const closed = page.getByTestId('closed');
      expect(await closed.innerText()).toMatch(/Hôm nay là ngày nghỉ\s+Nghỉ lễ: Giỗ Tổ Hùng Vương/);
      await shot(page, 'portrait-closed-holiday');
      await page.getByTestId('lang').click();
      expect(await closed.innerText()).toMatch(/Closed today \(holiday\)\s+Holiday: Giỗ Tổ Hùng Vương/);
      await shot(page, 'portrait-closed-holiday-en');
      expect(errors).toEqual([]);
    } finally {
      await stack.t.db.deleteFrom('holiday').where('siteId', '=', stack.siteId).execute();
    }
  });
});

describe('with every counter closed', () => {
  it('the kiosk, its ticket, the phone page and the monitor say nobody serves yet, until a counter opens', { timeout: 60_000 }, async () => {
    const { page, errors } = await kiosk({ width: 1080, height: 1920 });
    const tile = page.locator('[data-service="HT"]');
    await expect.poll(() => tile.innerText()).toContain('Chưa có quầy phục vụ');
    expect(await tile.innerText()).not.toContain('< 1 phút');
    await shot(page, 'portrait-home-no-counter');

    await tile.click();
    await page.getByTestId('ticket-code').waitFor();
    expect(await page.getByTestId('wait').innerText()).toBe('Chưa có quầy phục vụ');
    await shot(page, 'portrait-ticket-no-counter');
    const phoneUrl = (await page.locator('.qr').getAttribute('data-url'))!;

    // the phone page, the same
    const phoneContext = await browser.context({ width: 360, height: 740 });
    contexts.push(phoneContext);
    const phone = await phoneContext.newPage();
    await phone.clock.install();
    await phone.goto(phoneUrl);
    expect(await phone.locator('#eta').innerText()).toBe('Chưa có quầy phục vụ');
    await shot(phone, 'phone-no-counter');
    await phone.locator('#lang').click();
    expect(await phone.locator('#eta').innerText()).toBe('No counter is serving yet');
    await phone.locator('#lang').click();

    // the manager's monitor
    const consoleContext = await browser.context({ width: 1440, height: 900 });
    contexts.push(consoleContext);
    const monitor = await consoleContext.newPage();
    await monitor.goto(`${stack.baseUrl}/manage/`);
    await monitor.getByLabel('Tên đăng nhập').fill('quanly');
    await monitor.getByLabel('Mật khẩu').fill(STAFF_PASSWORD);
    await monitor.getByRole('button', { name: 'Đăng nhập' }).click();
    const row = monitor.getByTestId(`service-${stack.services.HT}`);
    await expect.poll(() => row.innerText(), { timeout: 10_000 }).toContain('Chưa có quầy phục vụ');
    await shot(monitor, 'monitor-no-counter');

    // counter 1 opens: the kiosk and the monitor change at once, the phone on its next poll
    const canbo1 = await login('canbo1');
    expect((await api('POST', `/counters/${stack.counters[1]}/open`, canbo1)).status).toBe(200);
    await expect.poll(() => row.innerText(), { timeout: 5000 }).not.toContain('Chưa có quầy phục vụ');
    expect(await row.innerText()).toMatch(/~5 phút/); // 1 waiting, 300 s each, 1 counter open
    await page.getByRole('button', { name: /^(Xong|Done)$/ }).click();
    await expect.poll(() => tile.innerText(), { timeout: 5000 }).toContain('Chờ khoảng ~5 phút');
    expect(await tile.innerText()).not.toContain('Chưa có quầy phục vụ');
    await phone.clock.fastForward(13_000);
    await expect.poll(() => phone.locator('#eta').innerText()).toBe('< 1 phút');
    await api('POST', `/counters/${stack.counters[1]}/close`, canbo1);
    expect(errors).toEqual([]);
  });
});
