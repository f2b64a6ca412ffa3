import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { screens } from '../support/screens.ts';
import type { Stack } from '../support/stack.ts';

// The centre's public page (docs/public-page.md) in real Chromium on a phone-sized screen: the
// centre with its fields, live waits and procedures, a procedure's page and its QR code, the
// printable QR sheet, and each page in both languages (screenshots in QMS_SCREENSHOTS).

const SHOTS = process.env.QMS_SCREENSHOTS ?? '/tmp/shots-public';
mkdirSync(SHOTS, { recursive: true });
const PHONE = { width: 390, height: 844 };
const CENTRE = '/c/PHUONG-DONG-CAM/';

const view = screens();
let stack: Stack;
let kioskToken: string;

const INFO = {
  steps: [
    { vi: 'Nộp tờ khai và giấy tờ tại quầy Tư pháp – Hộ tịch', en: 'Hand in the form and papers at the Civil status counter' },
    { vi: 'Cán bộ kiểm tra, ghi vào sổ hộ tịch', en: 'The official checks them and records the birth' },
    { vi: 'Nhận giấy khai sinh', en: 'Collect the birth certificate' },
  ],
  documents: [
    { vi: 'Tờ khai đăng ký khai sinh', en: 'Birth registration form' },
    { vi: 'Giấy chứng sinh', en: 'Birth certificate from the hospital' },
    { vi: 'CCCD của cha hoặc mẹ', en: 'A parent’s citizen ID card' },
  ],
  processingTime: { vi: 'Trong ngày làm việc', en: 'Within the working day' },
  fees: { vi: 'Miễn lệ phí', en: 'No fee' },
  url: 'https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.001193',
};

beforeAll(async () => {
  stack = view.stack;
  const { db } = stack.t;
  await db.updateTable('procedure').set({ info: JSON.stringify(INFO) as never }).where('code', '=', '1.001193').execute();
  await sql`UPDATE site SET settings = settings || ${JSON.stringify({ bookings: { enabled: true, remoteEnabled: true, daysAhead: 7 } })}::jsonb WHERE id = ${stack.siteId}`.execute(db);
  kioskToken = (await stack.device('kiosk')).token;
  for (const service of ['HT', 'HT', 'CT']) {
    const res = await stack.api('POST', `/sites/${stack.siteId}/tickets`, kioskToken, { serviceId: stack.services[service] });
    expect(res.status, res.text).toBe(201);
  }
});

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const field = (page: Page, code: string) => page.locator(`#svc-${code}`);

describe('the centre’s public page on a phone', () => {
  it('shows the fields with their waiting count, wait and procedures, and refreshes them by itself', async () => {
    const { page, errors } = await view.open(CENTRE, PHONE, { failedRequests: true });
    await expect.poll(() => page.locator('h1').innerText()).toBe('Trung tâm Phục vụ hành chính công phường Đồng Cam');
    const ht = field(page, 'HT');
    expect(await ht.locator('h2').innerText()).toBe('Tư pháp – Hộ tịch');
    expect(await ht.locator('.w').innerText()).toBe('2');
    // no counter is open yet: the wait says so rather than promising minutes
    expect(await ht.locator('.eta').innerText()).toContain('Chưa có quầy phục vụ');
    expect(await ht.locator('ul.procs').innerText()).toContain('Đăng ký khai sinh');
    expect(await page.locator('#open').innerText()).toBe('Đang mở cửa');
    await shot(page, 'centre-vi');

    // a number taken at the kiosk and a counter opened reach the page within its 20 s refresh
    const official = await stack.login('canbo1');
    expect((await stack.api('POST', `/counters/${stack.counters[1]}/open`, official, {})).status).toBe(200);
    expect((await stack.api('POST', `/sites/${stack.siteId}/tickets`, kioskToken, { serviceId: stack.services.HT })).status).toBe(201);
    await expect.poll(() => ht.locator('.w').innerText(), { timeout: 26_000, interval: 1000 }).toBe('3');
    expect(await ht.locator('.oc').innerText()).toBe('1');
    expect(await ht.locator('.eta').innerText()).toMatch(/^~\d+ phút$/);
    expect(errors).toEqual([]);
  }, 45_000);

  it('opens a procedure: code, documents, steps, fees, the national portal, its field and its QR code; and in English', async () => {
    const { page, errors } = await view.open(CENTRE, PHONE, { failedRequests: true });
    await page.getByRole('link', { name: /Đăng ký khai sinh/ }).click();
    await page.waitForURL(/\/p\/1\.001193$/);
    expect(await page.locator('h1').innerText()).toBe('Đăng ký khai sinh');
    expect(await page.locator('#code').innerText()).toBe('1.001193');
    expect(await page.locator('#documents').innerText()).toContain('Giấy chứng sinh');
    expect(await page.locator('#steps li').count()).toBe(3);
    expect(await page.locator('#fees').innerText()).toBe('Miễn lệ phí');
    expect(await page.locator('#portal').getAttribute('href')).toBe(INFO.url);
    const qr = await page.locator('#qr svg').boundingBox();
    expect(qr!.width).toBeGreaterThan(150);
    await shot(page, 'procedure-vi');
    await page.locator('#lang').click();
    await page.waitForURL(/lang=en/);
    expect(await page.locator('h1').innerText()).toBe('Birth registration');
    expect(await page.locator('#documents').innerText()).toContain('Birth certificate from the hospital');
    await shot(page, 'procedure-en');
    // the language stays chosen on the next page
    await page.getByRole('link', { name: 'Back to the centre' }).click();
    await expect.poll(() => field(page, 'HT').locator('h2').innerText()).toBe('Justice – Civil status');
    await shot(page, 'centre-en');
    expect(errors).toEqual([]);
  });

  it('prints every procedure’s QR code on A4, one card each', async () => {
    const { page, errors } = await view.open('/c/PHUONG-DONG-CAM/qr', PHONE, { failedRequests: true });
    const cards = page.locator('.qcard');
    const procedures = await stack.t.db.selectFrom('procedure').innerJoin('service', 'service.id', 'procedure.serviceId')
      .select('procedure.code').where('service.siteId', '=', stack.siteId).execute();
    expect(await cards.count()).toBe(procedures.length);
    await shot(page, 'qr-sheet-vi');
    await page.emulateMedia({ media: 'print' });
    await page.setViewportSize({ width: 794, height: 1123 }); // A4 at 96 dpi
    expect(await page.locator('header').isVisible()).toBe(false);
    expect(await page.locator('#print').isVisible()).toBe(false);
    // three cards a row, side by side, none cut in half
    const [a, b, c] = await Promise.all([0, 1, 2].map((i) => cards.nth(i).boundingBox()));
    expect(a!.y).toBe(b!.y);
    expect(b!.y).toBe(c!.y);
    await page.screenshot({ path: path.join(SHOTS, 'qr-sheet-print.png'), fullPage: true });
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
    expect(pages).toBe(Math.ceil(procedures.length / 9));
    expect(errors).toEqual([]);
  });
});
