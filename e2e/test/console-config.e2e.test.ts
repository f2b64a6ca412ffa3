import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../support/browser.ts';
import { startStack, STAFF_PASSWORD, type Stack } from '../support/stack.ts';
import { signIn } from '../support/pages.ts';

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
async function openSiteConfig(page: Page) {
  await page.getByTestId('tab-config').click();
  await page.getByRole('button', { name: 'Lưu giờ làm việc' }).waitFor();
}
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
async function token(username: string, password = STAFF_PASSWORD): Promise<string> {
  const res = await fetch(`${stack.baseUrl}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }),
  });
  return ((await res.json()) as { token: string }).token;
}
async function put(url: string, bearer: string, body: object): Promise<{ status: number }> {
  const res = await fetch(`${stack.baseUrl}/api/v1${url}`, { method: 'PUT', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return { status: res.status };
}
async function siteConfig() {
  const res = await fetch(`${stack.baseUrl}/api/v1/sites/${stack.siteId}`, { headers: { authorization: `Bearer ${await token('quanly')}` } });
  return await res.json() as { holidays: { date: string; name: string }[]; openingHours: { weekday: number; opens: string; closes: string }[] };
}

describe('console configuration in an English browser', () => {
  it('creates the official "hoa.nt", who then signs in at a counter', async () => {
    const { page, errors } = await open('/manage/');
    expect(await page.evaluate(() => navigator.language)).toBe('en-US');
    await signIn(page, 'quanly');
    await page.getByTestId('tab-config').click();
    await page.getByTestId('config-tab-staff').click();
    const username = page.getByLabel('Tên đăng nhập', { exact: true });

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
    // what a centre already has: a holiday on 5 December 2026, Monday 07:30–11:30 and 13:30–17:00
    const manager = await token('quanly');
    expect((await put(`/sites/${stack.siteId}/holidays`, manager, { holidays: [{ date: '2026-12-05', name: 'Ngày thử nghiệm' }] })).status).toBe(200);
    expect((await put(`/sites/${stack.siteId}/opening-hours`, manager, { openingHours: [
      { weekday: 1, opens: '07:30', closes: '11:30' }, { weekday: 1, opens: '13:30', closes: '17:00' },
    ] })).status).toBe(200);

    const { page, errors } = await open('/manage/');
    await signIn(page, 'quanly');
    await openSiteConfig(page);
    // the fields as found on the screen (no test ids: the native fields they replace had none)
    const holiday = (row: number) => page.locator('.holiday').nth(row);
    const monday = page.locator('table.hours tr').first();
    const opens = monday.locator('.session').nth(1).locator('input').nth(0);
    const closes = monday.locator('.session').nth(1).locator('input').nth(1);

    // --- shown day first and on the 24-hour clock, not 12/05/2026 and 1:30 PM
    expect(await holiday(0).locator('input').first().inputValue()).toBe('05/12/2026');
    expect(await monday.locator('.session').nth(0).locator('input').nth(0).inputValue()).toBe('07:30');
    expect(await opens.inputValue()).toBe('13:30');
    expect(await closes.inputValue()).toBe('17:00');
    await shot(page, 'console-site-hours-holidays-vi-1440x900');

    // --- a second holiday typed month first, as an English browser suggests: no such day, and said so
    await page.getByRole('button', { name: '+ Thêm ngày nghỉ' }).click();
    const day = holiday(1).locator('input').first();
    await day.fill('12/31/2026');
    await holiday(1).getByPlaceholder('Tên ngày nghỉ (Tết, Quốc khánh…)').fill('Tết Dương lịch');
    await page.getByRole('button', { name: 'Lưu ngày nghỉ' }).click();
    await expect.poll(() => holiday(1).getByRole('alert').innerText()).toBe('Không phải ngày hợp lệ. Nhập ngày/tháng/năm, VD 05/12/2026.');
    await shot(page, 'console-holiday-invalid-1440x900');
    expect((await siteConfig()).holidays).toHaveLength(1); // nothing was sent
    await day.fill('1/1/2027');
    await day.blur();
    expect(await day.inputValue()).toBe('01/01/2027');
    expect(await holiday(1).getByRole('alert').count()).toBe(0);
    await page.getByRole('button', { name: 'Lưu ngày nghỉ' }).click();
    await page.getByTestId('saved-holidays').waitFor();
    expect((await siteConfig()).holidays).toEqual([{ date: '2026-12-05', name: 'Ngày thử nghiệm' }, { date: '2027-01-01', name: 'Tết Dương lịch' }]);

    // --- the afternoon closes at 17:30, typed as people write it; "5:30 PM" is refused and explained
    await closes.fill('5:30 PM');
    await page.getByRole('button', { name: 'Lưu giờ làm việc' }).click();
    await expect.poll(() => monday.getByRole('alert').innerText()).toBe('Không phải giờ hợp lệ. Nhập giờ:phút (00:00–23:59), VD 13:30.');
    await shot(page, 'console-hours-invalid-1440x900');
    expect((await siteConfig()).openingHours.map((h) => h.closes)).toEqual(['11:30', '17:00']);
    await closes.fill('17h30');
    await closes.blur();
    expect(await closes.inputValue()).toBe('17:30');
    await page.getByRole('button', { name: 'Lưu giờ làm việc' }).click();
    await page.getByTestId('saved-hours').waitFor();
    expect((await siteConfig()).openingHours).toEqual([
      { weekday: 1, opens: '07:30', closes: '11:30' }, { weekday: 1, opens: '13:30', closes: '17:30' },
    ]);

    // --- after a reload, in English: the same dd/MM/yyyy and 24-hour text, and English messages
    await page.reload();
    await openSiteConfig(page);
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('button', { name: 'Save hours' }).waitFor();
    expect(await holiday(1).locator('input').first().inputValue()).toBe('01/01/2027');
    expect(await opens.inputValue()).toBe('13:30');
    expect(await closes.inputValue()).toBe('17:30');
    await opens.fill('25:00');
    await opens.blur();
    expect(await monday.getByRole('alert').innerText()).toBe('Not a valid time. Type hours:minutes (00:00–23:59), e.g. 13:30.');
    await holiday(0).locator('input').first().fill('');
    await holiday(0).locator('input').first().blur();
    expect(await holiday(0).getByRole('alert').innerText()).toBe('Enter a date: day/month/year, e.g. 05/12/2026.');
    await shot(page, 'console-site-hours-holidays-en-invalid-1440x900');
    expect(errors).toEqual([]);
  }, 120_000);
});
