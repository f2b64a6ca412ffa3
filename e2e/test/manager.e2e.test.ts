import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { fromExcelDate, readXlsx } from '../../server/test/manage/xlsx-reader.ts';
import { launchBrowser, type TestBrowser } from '../support/browser.ts';
import { startStack, STAFF_PASSWORD, type Stack } from '../support/stack.ts';

// The manager console in Chromium against the real server: the manager of the demo centre
// signs in; a ticket the kiosk issues appears on the live monitor, and the counter that calls
// it shows it; a criticism pressed on a rating tablet appears in the alert stream at once and
// is acknowledged (who and when are stored); today's report counts the ticket, and the tickets
// XLSX downloads (a real browser download), opens and contains it. A configuration change
// made on screen is what the API then serves. Screenshots at 1440x900.

const SHOTS = process.env.QMS_SCREENSHOTS ?? path.join(tmpdir(), 'qms-e2e-manager');
mkdirSync(SHOTS, { recursive: true });

let stack: Stack;
let browser: TestBrowser;
let context: BrowserContext;
let page: Page;
const errors: string[] = [];

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  context = await browser.context({ width: 1440, height: 900 });
  page = await context.newPage();
  page.setDefaultTimeout(8000);
  page.on('pageerror', (e) => errors.push(e.message));
});
afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close();
  await stack?.close();
});

const api: Stack['api'] = (...args) => stack.api(...args);
const login = (username: string) => stack.login(username);
const text = (testId: string) => page.getByTestId(testId).first().innerText();
const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });

describe('manager console', () => {
  it('signs in, follows a kiosk ticket live, acknowledges a criticism, downloads today\'s XLSX and changes a setting', async () => {
    const kiosk = await stack.device('kiosk');
    const tablet = await stack.device('rating', 1);

    // --- sign in
    await page.goto(`${stack.baseUrl}/manage/`);
    await page.getByLabel('Tên đăng nhập').fill('quanly');
    await page.getByLabel('Mật khẩu').fill(STAFF_PASSWORD);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    const site = page.getByTestId('site-PHUONG-DONG-CAM');
    await expect.poll(() => site.getByTestId('connection').innerText(), { timeout: 10_000 }).toBe('Trực tuyến');
    expect(await text('waiting-total')).toBe('0');

    // --- a citizen takes a ticket at the kiosk: it appears on the monitor without a reload
    const issued = await api('POST', `/sites/${stack.siteId}/tickets`, kiosk.token, { serviceId: stack.services.HT });
    expect(issued.status).toBe(201);
    const code: string = issued.body.ticket.code;
    await expect.poll(() => text('activity'), { timeout: 3000 }).toContain(code);
    await expect.poll(() => text('activity'), { timeout: 3000 }).toContain('Tư pháp – Hộ tịch');
    await expect.poll(() => page.getByTestId(`service-${stack.services.HT}`).innerText()).toMatch(/Tư pháp – Hộ tịch\s+1\s/);
    expect(await text('waiting-total')).toBe('1');

    // canbo1 opens counter 1 and calls it: the counter card shows the official and the ticket
    const canbo1 = await login('canbo1');
    await api('POST', `/counters/${stack.counters[1]}/open`, canbo1);
    expect((await api('POST', `/counters/${stack.counters[1]}/call-next`, canbo1)).body.ticket.code).toBe(code);
    await expect.poll(() => text('counter-1')).toContain(code);
    expect(await text('counter-1')).toMatch(/Quầy 1\s+Đang mở\s+Nguyễn Văn 1/);
    await expect.poll(() => text('waiting-total')).toBe('0');

    // --- a criticism pressed on counter 1's tablet reaches the alert stream at once
    const criticism = await api('POST', '/alerts/criticism', tablet.token, { comment: 'Cán bộ nghe điện thoại riêng' });
    expect(criticism.status).toBe(201);
    const alert = page.getByTestId('alert').filter({ hasText: 'Cán bộ nghe điện thoại riêng' });
    await expect.poll(() => alert.count(), { timeout: 3000 }).toBe(1);
    expect(await alert.innerText()).toMatch(/Công dân phản ánh[\s\S]*Quầy 1 · Nguyễn Văn 1/);
    expect(await text('open-alerts')).toBe('1');
    await page.getByTestId('activity').waitFor();
    await shot('manager-monitor-1440x900');

    await alert.getByTestId('acknowledge').click();
    await expect.poll(() => text('open-alerts')).toBe('0');
    const stored = await stack.t.db.selectFrom('alert').innerJoin('appUser', 'appUser.id', 'alert.acknowledgedBy')
      .select(['alert.acknowledgedAt', 'appUser.username']).where('alert.id', '=', criticism.body.alert.id).executeTakeFirstOrThrow();
    expect(stored.username).toBe('quanly');
    expect(stored.acknowledgedAt).toBeInstanceOf(Date);
    await page.getByLabel('Chưa xử lý').uncheck();
    await expect.poll(() => alert.innerText()).toContain('✓ Trần Thị Quản Lý');

    // the official finishes; the citizen is served
    await api('POST', `/tickets/${issued.body.ticket.id}/finish`, canbo1);

    // --- today's report counts the ticket
    await page.getByTestId('tab-reports').click();
    await expect.poll(() => text('kpi-issued'), { timeout: 10_000 }).toBe('1');
    expect(await text('report-table')).toContain('Tư pháp – Hộ tịch');
    await page.getByTestId('report-group').selectOption('hour');
    await page.getByTestId('report-load').click();
    await expect.poll(() => text('report-table')).toMatch(/\d{2}:00–\d{2}:00\s+1\s+1/);
    await shot('manager-reports-1440x900');

    // --- the tickets XLSX: a browser download, with its progress, that opens and holds the ticket
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-tickets.xlsx').click()]);
    expect(download.suggestedFilename()).toMatch(/^phieu-PHUONG-DONG-CAM-\d{4}-\d{2}-\d{2}\.xlsx$/);
    const saved = path.join(SHOTS, download.suggestedFilename());
    await download.saveAs(saved);
    await expect.poll(() => page.getByTestId('progress-tickets.xlsx').getAttribute('data-status')).toBe('done');
    expect(await text('progress-tickets.xlsx')).toMatch(/1 \/ 1 dòng/);
    const sheet = readXlsx(readFileSync(saved)).sheets[0]!;
    expect(sheet.rows[0]!.slice(0, 2)).toEqual(['Trung tâm', 'Số phiếu']);
    const row = sheet.rows.find((r) => r[1] === code)!;
    expect(row).toBeDefined();
    expect(row[0]).toBe('PHUONG-DONG-CAM');
    expect(row[5]).toBe('Đã phục vụ'); // status in words (the CSV keeps 'done')
    expect(row[12]).toBe('Nguyễn Văn 1');
    expect(fromExcelDate(row[6] as number).slice(0, 10)).toBe(issued.body.ticket.issuedAt.slice(0, 10));

    // --- configuration: the target wait of HT changed on screen is what the API serves
    await page.getByTestId('tab-config').click();
    await page.getByTestId('save-general').waitFor();
    await shot('manager-config-site-1440x900');
    await page.getByTestId('config-tab-services').click();
    await page.getByTestId('service-row-HT').click();
    await page.getByLabel('Thời gian chờ mục tiêu (phút)').fill('12');
    await page.getByRole('button', { name: 'Lưu lĩnh vực' }).click();
    await expect.poll(() => page.getByTestId('service-row-HT').innerText()).toContain('12 phút');
    const manager = await login('quanly');
    const config = (await api('GET', `/sites/${stack.siteId}`, manager)).body;
    expect(config.services.find((s: { code: string }) => s.code === 'HT').targetWaitSeconds).toBe(720);
    await shot('manager-config-services-1440x900');
    await page.getByTestId('config-tab-devices').click();
    await page.getByTestId('devices-table').waitFor();
    await shot('manager-config-devices-1440x900');

    expect(errors).toEqual([]);
  }, 120_000);

  it('goes back to sign-in as soon as its session is ended elsewhere (signed out on another screen)', async () => {
    const other = await browser.context({ width: 1440, height: 900 });
    try {
      const console2 = await other.newPage();
      await console2.goto(`${stack.baseUrl}/manage/`);
      await console2.getByLabel('Tên đăng nhập').fill('quanly');
      await console2.getByLabel('Mật khẩu').fill(STAFF_PASSWORD);
      await console2.getByRole('button', { name: 'Đăng nhập' }).click();
      const site = console2.getByTestId('site-PHUONG-DONG-CAM');
      await expect.poll(() => site.getByTestId('connection').innerText(), { timeout: 10_000 }).toBe('Trực tuyến');
      const token = await console2.evaluate(() => localStorage.getItem('qms.manage.token'));
      expect(token).toBeTruthy();
      // the session ends on the server: its open socket is closed, its retry refused
      expect((await api('POST', '/auth/logout', token!)).status).toBe(204);
      await console2.getByLabel('Tên đăng nhập').waitFor({ timeout: 8_000 });
      expect(await console2.getByTestId('site-PHUONG-DONG-CAM').count()).toBe(0);
    } finally {
      await other.close();
    }
  }, 60_000);
});
