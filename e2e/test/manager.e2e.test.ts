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

  it('shows satisfaction, criticisms and their handling, visits per dossier and procedures, and downloads the month\'s satisfaction export', async () => {
    // the first test served one ticket (no rating) and left one criticism (acknowledged, case new)
    const canbo1 = await login('canbo1');
    const manager = await login('quanly');
    const kiosk = await stack.device('kiosk');
    const tablet = await stack.device('rating', 1);
    const served: string[] = [];
    for (const score of [3, 3, 2, 1, null]) {
      const issued = await api('POST', `/sites/${stack.siteId}/tickets`, kiosk.token, { serviceId: stack.services.HT });
      expect(issued.status).toBe(201);
      const id = issued.body.ticket.id as string;
      expect((await api('POST', `/counters/${stack.counters[1]}/call-next`, canbo1)).body.ticket.id).toBe(id);
      expect((await api('POST', `/tickets/${id}/finish`, canbo1)).status).toBe(200);
      if (score !== null) expect((await api('POST', `/tickets/${id}/rating`, tablet.token, { score, ...(score === 1 ? { reason: 'waiting' } : {}) })).status).toBe(201);
      served.push(id);
    }
    // procedures and dossiers as the kiosk and the counter record them (written on main; here straight to the tables)
    const procedure = (i: number, code: string, vi: string) => stack.t.db.insertInto('ticketProcedure').values({
      ticketId: served[i]!, siteId: stack.siteId, procedureCode: code, procedureName: JSON.stringify({ vi, en: vi }), serviceId: stack.services.HT!,
      source: 'kiosk', addedAt: stack.now(), addedBy: null,
    }).execute();
    await procedure(0, '1.001193', 'Đăng ký khai sinh');
    await procedure(1, '1.001193', 'Đăng ký khai sinh');
    await procedure(1, '1.000894', 'Đăng ký kết hôn');
    await procedure(2, '1.000894', 'Đăng ký kết hôn');
    const dossier = (i: number, code: string, direction: 'received' | 'returned') => stack.t.db.insertInto('ticketDossier').values({
      ticketId: served[i]!, siteId: stack.siteId, dossierCode: code, direction, recordedAt: stack.now(), recordedBy: null,
    }).execute();
    await dossier(0, 'HS-2026-0001', 'received');
    await dossier(3, 'HS-2026-0001', 'returned');
    await dossier(1, 'HS-2026-0002', 'received');
    await dossier(2, 'HS-2026-0003', 'received');
    // a second criticism, investigated and resolved
    const criticism = await api('POST', '/alerts/criticism', tablet.token, { comment: 'Thiếu ghế chờ' });
    expect(criticism.status).toBe(201);
    expect((await api('PATCH', `/alerts/${criticism.body.alert.id}/case`, manager, { status: 'investigating' })).status).toBe(200);
    expect((await api('PATCH', `/alerts/${criticism.body.alert.id}/case`, manager, { status: 'resolved', note: 'Đã bổ sung ghế' })).status).toBe(200);

    await page.getByTestId('tab-reports').click();
    await page.getByTestId('report-load').click();
    // ratings 3 3 2 1: satisfied 3 of 4; two criticisms, one resolved, one new
    await expect.poll(() => text('sat-ratings'), { timeout: 10_000 }).toBe('4');
    expect(await text('sat-satisfied')).toBe('75,0 %');
    expect(await text('sat-criticisms')).toBe('2');
    const satisfaction = await text('satisfaction-table');
    expect(satisfaction).toMatch(/Nguyễn Văn 1\s+4\s+50,0 %\s+25,0 %\s+25,0 %\s+75,0 %\s+2,25\s+2\s+1\s+0\s+1/);
    expect(satisfaction).toMatch(/Tổng cộng\s+4\s+50,0 %/);
    await page.getByTestId('sat-group-procedure').click();
    await expect.poll(() => text('satisfaction-table')).toContain('Đăng ký kết hôn');
    // 1.000894: tickets 1 (3) and 2 (2); 1.001193: 0 (3) and 1 (3); none: 3 (1)
    expect(await text('satisfaction-table')).toMatch(/1\.000894\s*Đăng ký kết hôn\s+2\s+50,0 %\s+50,0 %\s+0,0 %\s+100,0 %/);
    expect(await text('satisfaction-table')).toMatch(/\(không ghi thủ tục\)\s+1\s+0,0 %\s+0,0 %\s+100,0 %\s+0,0 %/);

    // visits per dossier: HS-…0001 twice, the others once
    expect(await text('dossier-count')).toBe('3');
    expect(await text('dossier-avg')).toBe('1,33');
    expect(await text('dossier-within-two')).toBe('100,0 %');
    expect(await text('dossier-table')).toMatch(/1\.001193\s*Đăng ký khai sinh\s+2\s+3\s+1,50\s+1\s+1\s+0\s+0\s+100,0 %/);

    // the summary grouped by procedure: wait and service times per procedure
    await page.getByTestId('report-group').selectOption('procedure');
    await page.getByTestId('report-load').click();
    await expect.poll(() => text('report-table')).toContain('(không ghi thủ tục)');
    expect(await text('report-table')).toMatch(/Đăng ký kết hôn\s*1\.000894\s+2\s+2/);
    await page.getByTestId('satisfaction-report').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'manager-reports-satisfaction-1440x900.png'), fullPage: true });

    // the month's export: a real browser download, read back against the raw ratings
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(stack.now());
    await page.getByTestId('period-kind').selectOption('month');
    await page.getByTestId('period-month').selectOption(String(Number(today.slice(5, 7))));
    await page.getByTestId('period-year').selectOption(today.slice(0, 4));
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-satisfaction.xlsx').click()]);
    expect(download.suggestedFilename()).toBe(`hai-long-PHUONG-DONG-CAM-${today.slice(0, 7)}.xlsx`);
    const saved = path.join(SHOTS, download.suggestedFilename());
    await download.saveAs(saved);
    await expect.poll(() => page.getByTestId('progress-satisfaction.xlsx').getAttribute('data-status')).toBe('done');
    const book = readXlsx(readFileSync(saved));
    expect(book.sheets.map((x) => x.name)).toEqual(['Chỉ tiêu', 'Cán bộ', 'Quầy', 'Lĩnh vực', 'Thủ tục', 'Số lần đi lại', 'Định nghĩa – Definitions']);
    const raw = await stack.t.db.selectFrom('rating').select('score').where('siteId', '=', stack.siteId).execute();
    const officials = book.sheets[1]!.rows;
    expect(officials.at(-1)!.slice(0, 5)).toEqual(['Tổng cộng', raw.length, ...[3, 2, 1].map((s) => raw.filter((r) => r.score === s).length)]);
    expect(officials[1]!.slice(0, 2)).toEqual(['Nguyễn Văn 1', 4]);

    // English, through the console's own switch
    await page.getByRole('button', { name: 'English' }).click();
    await expect.poll(() => text('satisfaction-report')).toContain('Satisfaction and criticisms');
    expect(await text('satisfaction-table')).toContain('(no procedure recorded)');
    expect(await text('sat-satisfied')).toBe('75.0%');
    await page.screenshot({ path: path.join(SHOTS, 'manager-reports-satisfaction-en-1440x900.png'), fullPage: true });
    await page.getByRole('button', { name: 'Tiếng Việt' }).click();
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
