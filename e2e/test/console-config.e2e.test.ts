import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../support/browser.ts';
import { startStack, STAFF_PASSWORD, type Stack } from '../support/stack.ts';

// The console's configuration in a Chromium whose own language is English (--lang=en-US, locale
// en-US), as many centres' PCs are set up: a manager creates the official "hoa.nt" (the username
// field once refused every name with "Please match the requested format.") who then signs in at
// a counter; holidays read and are typed dd/MM/yyyy and opening hours HH:mm, never 12/05/2026 or
// "1:30 PM", and what is not a date or a time is refused with a message in the console's language.
// Screenshots at 1440x900.

const SHOTS = process.env.QMS_SCREENSHOTS ?? path.join(tmpdir(), 'qms-e2e-console-config');
mkdirSync(SHOTS, { recursive: true });

let stack: Stack;
let browser: TestBrowser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser({ args: ['--lang=en-US'] })]);
});
afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await stack?.close();
});

async function open(url: string): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.context({ width: 1440, height: 900, locale: 'en-US' });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(8000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${stack.baseUrl}${url}`);
  return { page, errors };
}
async function signIn(page: Page, username: string, password = STAFF_PASSWORD) {
  await page.getByLabel('Tên đăng nhập').fill(username);
  await page.getByLabel('Mật khẩu').fill(password);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
}
async function openSiteConfig(page: Page) {
  await page.getByTestId('tab-config').click();
  await page.getByTestId('save-hours').waitFor();
}
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
const siteConfig = async () => {
  const login = await fetch(`${stack.baseUrl}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'quanly', password: STAFF_PASSWORD }),
  });
  const { token } = await login.json() as { token: string };
  const res = await fetch(`${stack.baseUrl}/api/v1/sites/${stack.siteId}`, { headers: { authorization: `Bearer ${token}` } });
  return await res.json() as { holidays: { date: string; name: string }[]; openingHours: { weekday: number; opens: string; closes: string }[] };
};

describe('console configuration in an English browser', () => {
  it('creates the official "hoa.nt", who then signs in at a counter', async () => {
    const { page, errors } = await open('/manage/');
    expect(await page.evaluate(() => navigator.language)).toBe('en-US');
    await signIn(page, 'quanly');
    await page.getByTestId('tab-config').click();
    await page.getByTestId('config-tab-staff').click();
    const username = page.getByTestId('add-staff-username');

    // what the browser itself thinks of the names (the form checks these before anything is sent)
    const validity = (value: string) => username.evaluate((el: HTMLInputElement, v) => {
      el.value = v;
      el.dispatchEvent(new Event('input', { bubbles: true }));
      return el.checkValidity();
    }, value);
    for (const name of ['hoa.nt', 'hoant', 'hoa_nt', 'canbo7', 'nguyen-van-a']) expect(await validity(name), name).toBe(true);
    for (const name of ['h', 'hoà.nt', 'hoa nt', 'a'.repeat(61)]) expect(await validity(name), name).toBe(false);

    // a refused name is explained in the console's language, not the browser's
    await page.getByLabel('Họ tên', { exact: true }).last().fill('Nguyễn Thị Hoà');
    await username.fill('hoà.nt');
    await page.getByLabel('Mật khẩu (ít nhất 8 ký tự)').fill('hoa-password-1');
    await page.getByRole('button', { name: 'Thêm', exact: true }).click();
    expect(await username.evaluate((el: HTMLInputElement) => el.validationMessage)).toBe('Tên đăng nhập gồm 2–60 ký tự: chữ không dấu, số và . _ -');

    await username.fill('hoa.nt');
    await page.getByRole('button', { name: 'Thêm', exact: true }).click();
    await expect.poll(() => page.getByTestId('staff-table').innerText()).toContain('hoa.nt');
    expect(await page.getByTestId('staff-table').innerText()).toMatch(/Nguyễn Thị Hoà\s+hoa\.nt\s+Cán bộ\s+Hoạt động/);
    await shot(page, 'console-staff-added-1440x900');
    const stored = await stack.t.db.selectFrom('appUser').select(['role', 'displayName']).where('username', '=', 'hoa.nt').executeTakeFirstOrThrow();
    expect(stored).toEqual({ role: 'staff', displayName: 'Nguyễn Thị Hoà' });

    // the new official signs in at a counter terminal and sees the site's counters
    const counter = await open('/counter/');
    await signIn(counter.page, 'hoa.nt', 'hoa-password-1');
    await counter.page.getByTestId('counter-1').waitFor();
    await shot(counter.page, 'counter-picker-hoa.nt-1440x900');
    expect([...errors, ...counter.errors]).toEqual([]);
  }, 120_000);

  it('shows and takes holidays as dd/MM/yyyy and opening hours as 24-hour HH:mm, and explains what is neither', async () => {
    const { page, errors } = await open('/manage/');
    await signIn(page, 'quanly');
    await openSiteConfig(page);

    // --- a holiday on 5 December 2026, typed day first
    await page.getByTestId('add-holiday').click();
    const day = page.getByTestId('holiday-date-0');
    await day.fill('12/31/2026'); // month first, as an English browser would suggest: no such day
    await page.getByTestId('holiday-name-0').fill('Ngày thử nghiệm');
    await page.getByTestId('save-holidays').click();
    await expect.poll(() => page.getByTestId('holiday-date-0-problem').innerText()).toBe('Không phải ngày hợp lệ. Nhập ngày/tháng/năm, VD 05/12/2026.');
    await shot(page, 'console-holiday-invalid-1440x900');
    expect((await siteConfig()).holidays).toEqual([]); // nothing was sent
    await day.fill('5/12/2026');
    await day.blur();
    expect(await day.inputValue()).toBe('05/12/2026');
    expect(await page.getByTestId('holiday-date-0-problem').count()).toBe(0);
    await page.getByTestId('save-holidays').click();
    await page.getByTestId('saved-holidays').waitFor();
    expect((await siteConfig()).holidays).toEqual([{ date: '2026-12-05', name: 'Ngày thử nghiệm' }]);

    // --- opening hours: Monday 07:30–11:30 and an afternoon from 13:30, typed as people write it
    const monday = page.locator('table.hours tr').first();
    await monday.getByRole('button', { name: '+ buổi' }).click();
    await monday.getByRole('button', { name: '+ buổi' }).click();
    expect(await page.getByTestId('opens-1-0').inputValue()).toBe('07:30');
    const opens = page.getByTestId('opens-1-1');
    const closes = page.getByTestId('closes-1-1');
    expect(await opens.inputValue()).toBe('13:30');
    await closes.fill('5:30 PM'); // what an English browser's time field wants: refused, explained
    await page.getByTestId('save-hours').click();
    await expect.poll(() => page.getByTestId('closes-1-1-problem').innerText()).toBe('Không phải giờ hợp lệ. Nhập giờ:phút (00:00–23:59), VD 13:30.');
    await shot(page, 'console-hours-invalid-1440x900');
    expect((await siteConfig()).openingHours).toEqual([]);
    await closes.fill('17h30');
    await closes.blur();
    expect(await closes.inputValue()).toBe('17:30');
    await page.getByTestId('save-hours').click();
    await page.getByTestId('saved-hours').waitFor();
    expect((await siteConfig()).openingHours).toEqual([
      { weekday: 1, opens: '07:30', closes: '11:30' }, { weekday: 1, opens: '13:30', closes: '17:30' },
    ]);

    // --- read back after a reload: the same dd/MM/yyyy and 24-hour text, in either language
    await page.reload();
    await openSiteConfig(page);
    expect(await page.getByTestId('holiday-date-0').inputValue()).toBe('05/12/2026');
    expect(await page.getByTestId('opens-1-1').inputValue()).toBe('13:30');
    expect(await page.getByTestId('closes-1-1').inputValue()).toBe('17:30');
    await shot(page, 'console-site-hours-holidays-vi-1440x900');
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('button', { name: 'Save hours' }).waitFor();
    expect(await page.getByTestId('holiday-date-0').inputValue()).toBe('05/12/2026');
    expect(await page.getByTestId('opens-1-1').inputValue()).toBe('13:30');
    await page.getByTestId('opens-1-1').fill('25:00');
    await page.getByTestId('opens-1-1').blur();
    expect(await page.getByTestId('opens-1-1-problem').innerText()).toBe('Not a valid time. Type hours:minutes (00:00–23:59), e.g. 13:30.');
    await page.getByTestId('holiday-date-0').fill('');
    await page.getByTestId('holiday-date-0').blur();
    expect(await page.getByTestId('holiday-date-0-problem').innerText()).toBe('Enter a date: day/month/year, e.g. 05/12/2026.');
    await shot(page, 'console-site-hours-holidays-en-invalid-1440x900');
    expect(errors).toEqual([]);
  }, 120_000);
});
