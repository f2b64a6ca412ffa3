import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screens } from '../support/screens.ts';
import type { Stack } from '../support/stack.ts';
import { signIn } from '../support/pages.ts';

// The console's appointments (docs/manager.md "Lịch hẹn / Appointments"): a manager sets the
// booking rules, proposes and saves the capacity of a field, writes a procedure's information for
// citizens, and reads the bookings report with its file. Screenshots at 1440x900, Vietnamese and
// English (QMS_SCREENSHOTS, default a temporary folder).

const SHOTS = process.env.QMS_SCREENSHOTS ?? path.join(tmpdir(), 'qms-e2e-console-bookings');
mkdirSync(SHOTS, { recursive: true });

const view = screens();
let stack: Stack;
let token: string;
beforeAll(async () => {
  stack = view.stack;
  token = await stack.login('quanly');
  // the demo centre's hours (the stack removes them so that its kiosks are always open)
  const sessions = [1, 2, 3, 4, 5].flatMap((weekday) => [{ weekday, opens: '07:30', closes: '11:30' }, { weekday, opens: '13:30', closes: '17:00' }]);
  const res = await stack.api('PUT', `/sites/${stack.siteId}/opening-hours`, token, { openingHours: [...sessions, { weekday: 6, opens: '07:30', closes: '11:30' }] });
  expect(res.status).toBe(200);
});
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

describe('appointments in the console', () => {
  it('rules, a proposed capacity saved, a procedure’s information, and the report', async () => {
    const { page, errors } = await view.open('/manage/');
    await signIn(page, 'quanly');
    await page.getByTestId('tab-bookings').click();
    await expect.poll(() => page.url()).toMatch(/#\/bookings$/);

    // the rules
    await page.getByTestId('bk-enabled').check();
    await page.getByTestId('bk-remote').check();
    await page.getByTestId('bk-lateMinutes').fill('20');
    await page.getByTestId('save-booking-settings').click();
    await page.getByTestId('saved-booking-settings').waitFor();
    const settings = async () => (await stack.t.db.selectFrom('site').select('settings').where('id', '=', stack.siteId).executeTakeFirstOrThrow()).settings as { bookings?: Record<string, unknown> };
    expect((await settings()).bookings).toMatchObject({ enabled: true, remoteEnabled: true, lateMinutes: 20, blockMinutes: 30 });

    // the grid of HT: Monday to Saturday, 07:30 to 16:30; Saturday afternoon is blank
    await page.getByTestId('capacity-service').selectOption(stack.services.HT!);
    await page.getByTestId('cap-1-07:30').waitFor();
    expect(await page.getByTestId('cap-6-13:30').count()).toBe(0);
    expect(await page.locator('[data-testid="capacity-grid"] thead th').allInnerTexts()).toEqual(['KHUNG GIỜ', 'THỨ 2', 'THỨ 3', 'THỨ 4', 'THỨ 5', 'THỨ 6', 'THỨ 7', '']);
    // propose: no history, so the target wait (15 min) and counters 1 and 2: 1800 / 900 × 2 × 0.5 = 2 per block
    await page.getByTestId('capacity-propose').click();
    await expect.poll(() => page.getByTestId('cap-1-07:30').inputValue()).toBe('2');
    await page.getByTestId('capacity-proposal-note').waitFor();
    expect(await page.getByTestId('capacity-week').innerText()).toBe(String((5 * 15 + 8) * 2));
    // one block changed by hand
    await page.getByTestId('cap-2-09:00').fill('5');
    await page.getByTestId('capacity-save').click();
    await page.getByTestId('capacity-saved').waitFor();
    const rows = await stack.t.db.selectFrom('bookingCapacity').selectAll().where('siteId', '=', stack.siteId).execute();
    expect(rows).toHaveLength(5 * 15 + 8);
    expect(rows.find((r) => r.weekday === 2 && r.starts.startsWith('09:00'))!.capacity).toBe(5);
    expect(rows.filter((r) => r.capacity === 2)).toHaveLength(5 * 15 + 8 - 1);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'bookings-vi');

    // a procedure's information, where procedures are configured
    await page.getByTestId('tab-config').click();
    await page.getByTestId('config-tab-services').click();
    await page.getByTestId('service-row-HT').click();
    await page.getByTestId('procedure-info-1.001193').click();
    await page.getByTestId('info-step-add').click();
    await page.getByTestId('info-step-vi-0').fill('Nộp tờ khai đăng ký khai sinh');
    await page.getByTestId('info-step-en-0').fill('Hand in the birth registration form');
    await page.getByTestId('info-step-add').click();
    await page.getByTestId('info-step-vi-1').fill('Nhận giấy khai sinh');
    await page.getByTestId('info-doc-add').click();
    await page.getByTestId('info-doc-vi-0').fill('Giấy chứng sinh');
    await page.getByTestId('info-time-vi').fill('Trong ngày');
    await page.getByTestId('info-fees-vi').fill('Miễn phí');
    await page.getByTestId('info-url').fill('https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.001193');
    await page.getByTestId('save-procedure-info').click();
    await page.getByTestId('saved-procedure-info').waitFor();
    const info = (await stack.t.db.selectFrom('procedure').innerJoin('service', 'service.id', 'procedure.serviceId').select('procedure.info')
      .where('service.id', '=', stack.services.HT!).where('procedure.code', '=', '1.001193').executeTakeFirstOrThrow()).info;
    expect(info).toEqual({
      steps: [{ vi: 'Nộp tờ khai đăng ký khai sinh', en: 'Hand in the birth registration form' }, { vi: 'Nhận giấy khai sinh', en: 'Nhận giấy khai sinh' }],
      documents: [{ vi: 'Giấy chứng sinh', en: 'Giấy chứng sinh' }],
      processingTime: { vi: 'Trong ngày', en: 'Trong ngày' },
      fees: { vi: 'Miễn phí', en: 'Miễn phí' },
      url: 'https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.001193',
    });
    expect(await page.getByTestId('qr-sheet-link').getAttribute('href')).toBe('/c/PHUONG-DONG-CAM/qr');
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'procedure-info-vi');

    // the report: two bookings of today, one checked in, one missed
    const now = stack.now();
    for (const status of ['checked_in', 'missed'] as const) {
      await stack.t.db.insertInto('booking').values({
        publicId: randomBytes(8).toString('hex'), code: randomBytes(3).toString('hex').toUpperCase(), siteId: stack.siteId, serviceId: stack.services.HT!,
        procedureCode: null, kind: 'slot', status, source: 'public', localDate: '2026-01-01', slotAt: new Date(now.getTime() - 3_600_000), slotMinutes: 30,
        arriveBy: null, contactKind: null, contact: null, idDigest: null, verifyDigest: null, verifyExpiresAt: null, ticketId: null, checkedInLate: false,
        createdAt: new Date(now.getTime() - 86_400_000), confirmedAt: new Date(now.getTime() - 86_000_000), cancelledAt: null, checkedInAt: null, eraseAfter: null,
      } as never).execute();
    }
    await page.getByTestId('tab-reports').click();
    await page.getByTestId('booking-report').waitFor();
    await expect.poll(() => page.getByTestId('bk-confirmed').innerText()).toBe('2');
    expect(await page.getByTestId('bk-noshow').innerText()).toMatch(/^50,0\s?%$/);
    await page.getByTestId('download-bookings.xlsx').click();
    await expect.poll(() => page.getByTestId('progress-bookings.xlsx').getAttribute('data-status')).toBe('done');
    await page.getByTestId('booking-report').scrollIntoViewIfNeeded();
    await page.getByTestId('booking-report').screenshot({ path: path.join(SHOTS, 'report-bookings-vi.png') });

    // the day's bookings: one expected at the next hour, cancelled for a citizen who phoned
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(now);
    await stack.t.db.insertInto('booking').values({
      publicId: randomBytes(12).toString('base64url'), code: '20261234', siteId: stack.siteId, serviceId: stack.services.HT!,
      procedureCode: null, kind: 'slot', status: 'confirmed', source: 'portal', localDate: today, slotAt: new Date(now.getTime() + 3_600_000), slotMinutes: 30,
      arriveBy: null, contactKind: 'phone', contact: '84912345678', idDigest: null, verifyDigest: null, verifyExpiresAt: null, ticketId: null, checkedInLate: false,
      createdAt: now, confirmedAt: now, cancelledAt: null, checkedInAt: null, eraseAfter: null,
    } as never).execute();
    await page.getByTestId('tab-bookings').click();
    const row = page.getByTestId('day-booking-20261234');
    await row.waitFor();
    expect(await row.innerText()).toContain('2026 1234');
    expect(await row.innerText()).toContain('Đã xác nhận');
    // the number is shown masked, never whole
    expect(await row.innerText()).not.toContain('912345678');
    await row.getByTestId('day-booking-cancel').click();
    await row.getByTestId('day-booking-cancel-yes').click();
    await expect.poll(() => row.innerText()).toContain('Đã hủy');
    expect((await stack.t.db.selectFrom('booking').select('status').where('code', '=', '20261234').executeTakeFirstOrThrow()).status).toBe('cancelled');
    await page.getByTestId('day-bookings').scrollIntoViewIfNeeded();
    await page.getByTestId('day-bookings').screenshot({ path: path.join(SHOTS, 'day-bookings-vi.png') });
    await page.getByTestId('tab-reports').click();
    await page.getByTestId('booking-report').waitFor();

    // in English
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByText('Appointments and remote tickets').waitFor();
    await page.getByTestId('booking-report').screenshot({ path: path.join(SHOTS, 'report-bookings-en.png') });
    await page.getByTestId('tab-bookings').click();
    await page.getByTestId('capacity-grid').waitFor();
    await shot(page, 'bookings-en');
    expect(errors).toEqual([]);
  });
});
