import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { readXlsx } from '../../server/test/manage/xlsx-reader.ts';
import { signIn } from '../support/pages.ts';
import { screens } from '../support/screens.ts';
import type { Stack } from '../support/stack.ts';

// Issue 21's scripted day, in real Chromium against the real server: a citizen searches a
// procedure at the kiosk and takes a number for it; the official calls it, sees the procedure,
// records two dossier codes (one typed, one "scanned" by a keyboard-wedge scanner) and finishes;
// the citizen rates on the counter's tablet. The dossier system's key then looks the dossier up
// and gets the whole visit, and the month's satisfaction export equals the raw ratings.

const SHOTS = process.env.QMS_SCREENSHOTS ?? path.join(tmpdir(), 'qms-e2e-dossier-day');
mkdirSync(SHOTS, { recursive: true });

const view = screens();
let stack: Stack;
beforeAll(() => {
  stack = view.stack;
  console.log(`dossier day screenshots: ${SHOTS}`);
});
const open = view.open;
const text = (page: Page, testId: string) => page.getByTestId(testId).innerText().catch(() => '');
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });

const RECEIVED = '000.00.12.H47-261205-0042';
const SCANNED = '000.00.12.H47-261205-0043';

describe('a day of dossiers', () => {
  it('kiosk search → counter with two dossier codes → rating → the dossier lookup has the whole visit', async () => {
    const [kioskDevice, tabletDevice] = await Promise.all([stack.device('kiosk'), stack.device('rating', 1)]);
    const kiosk = await open(`/kiosk/?pair=${kioskDevice.pairingCode}`, { width: 1080, height: 1920 });
    const tablet = await open(`/rating/?pair=${tabletDevice.pairingCode}`, { width: 1280, height: 800 });
    const counter = await open('/counter/', { width: 1366, height: 768 });

    // --- the official opens counter 1
    await signIn(counter.page, 'canbo1');
    await counter.page.getByTestId('counter-1').click();
    await expect.poll(() => text(counter.page, 'counter-status')).toContain('Đang đóng');
    await counter.page.keyboard.press('F9');
    await expect.poll(() => text(counter.page, 'counter-status')).toContain('Đang mở');

    // --- the citizen searches "khai sinh" on the kiosk's keyboard and takes a number for it
    await kiosk.page.locator('[data-service="HT"]').waitFor();
    await kiosk.page.getByTestId('search').click();
    for (const key of 'khai sinh') await kiosk.page.locator(`[data-key="${key === ' ' ? 'space' : key}"]`).click();
    const hit = kiosk.page.locator('[data-procedure="1.001193"]');
    await hit.waitFor();
    await hit.locator('button.take').click();
    const code = (await kiosk.page.getByTestId('ticket-code').innerText()).trim();
    expect(code).toMatch(/^A\d{3}$/);
    expect(await text(kiosk.page, 'ticket-procedure')).toContain('Đăng ký khai sinh');
    await shot(kiosk.page, '1-kiosk-ticket-with-procedure');

    // --- called with F1: the counter shows the kiosk's procedure
    await expect.poll(() => text(counter.page, 'next-list')).toContain(code);
    await counter.page.keyboard.press('F1');
    await expect.poll(() => text(counter.page, 'current-code')).toBe(code);
    await expect.poll(() => text(counter.page, 'procedure-1.001193')).toContain('Đăng ký khai sinh');

    // --- one code typed, one scanned (fast keys then Enter, the focus on the field)
    const field = counter.page.getByTestId('dossier-input');
    await field.click();
    await field.pressSequentially(RECEIVED.toLowerCase(), { delay: 20 });
    await counter.page.keyboard.press('Enter');
    await counter.page.getByTestId(`dossier-${RECEIVED}-received`).waitFor();
    await field.click();
    await counter.page.keyboard.type(SCANNED, { delay: 2 });
    await counter.page.keyboard.press('Enter');
    await counter.page.getByTestId(`dossier-${SCANNED}-received`).waitFor();
    await shot(counter.page, '2-counter-visit');
    // no shortcut fired while the codes were typed: the ticket is still called here
    expect(await text(counter.page, 'current-code')).toBe(code);
    await counter.page.keyboard.press('F4'); // finish
    const status = async () => (await stack.t.db.selectFrom('ticket').select('status').where('code', '=', code).executeTakeFirst())?.status;
    await expect.poll(status).toBe('done');

    // --- the citizen rates on the tablet: satisfied
    await expect.poll(() => text(tablet.page, 'ask'), { timeout: 8000 }).toContain(code);
    await tablet.page.getByRole('button', { name: 'Hài lòng', exact: true }).click();
    await expect.poll(() => text(tablet.page, 'thanks')).toContain('Cảm ơn');

    // --- the dossier system looks the dossier up with its own key
    const manager = await stack.login('quanly');
    const key = await stack.api('POST', `/sites/${stack.siteId}/integration-keys`, manager, { name: 'Một cửa điện tử', scopes: ['dossiers:read'] });
    expect(key.status).toBe(201);
    for (const dossier of [RECEIVED, SCANNED]) {
      const lookup = await stack.api('GET', `/sites/${stack.siteId}/dossiers/${dossier}`, key.body.key);
      expect(lookup.status, lookup.text).toBe(200);
      expect(lookup.body.visits).toHaveLength(1);
      const [visit] = lookup.body.visits;
      expect(visit).toMatchObject({
        code, status: 'done', directions: ['received'], counter: { number: 1 },
        procedures: [{ code: '1.001193', name: { vi: 'Đăng ký khai sinh' } }],
        officials: [{ displayName: 'Nguyễn Văn 1' }],
        rating: { score: 2, label: { vi: 'Hài lòng' }, official: { displayName: 'Nguyễn Văn 1' } },
        criticisms: [],
      });
      expect(visit.waitSeconds).toBeGreaterThanOrEqual(0);
      expect(visit.serviceSeconds).toBeGreaterThan(0);
    }

    // --- the month's satisfaction export equals the raw ratings: in all, by official and by procedure
    const month = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(stack.now()).slice(0, 7);
    const res = await fetch(`${stack.baseUrl}/api/v1/sites/${stack.siteId}/reports/satisfaction.xlsx?period=month&year=${month.slice(0, 4)}&month=${Number(month.slice(5))}`,
      { headers: { authorization: `Bearer ${manager}` } });
    expect(res.status).toBe(200);
    const book = readXlsx(Buffer.from(await res.arrayBuffer()));
    const sheet = (name: string) => book.sheets.find((x) => x.name === name)!.rows;
    const raw = await stack.t.db.selectFrom('rating').innerJoin('appUser', 'appUser.id', 'rating.staffId')
      .select(['rating.score', 'appUser.displayName']).where('rating.siteId', '=', stack.siteId).execute();
    expect(raw).toEqual([{ score: 2, displayName: 'Nguyễn Văn 1' }]);
    const count = (score: number) => raw.filter((r) => r.score === score).length;
    const officials = sheet('Cán bộ');
    expect(officials.at(-1)!.slice(0, 5)).toEqual(['Tổng cộng', raw.length, count(3), count(2), count(1)]);
    expect(officials.find((r) => r[0] === 'Nguyễn Văn 1')!.slice(1, 5)).toEqual([raw.length, count(3), count(2), count(1)]);
    const procedures = sheet('Thủ tục');
    expect(procedures.find((r) => r[0] === '1.001193')!.slice(1, 6)).toEqual(['Đăng ký khai sinh', 1, count(3), count(2), count(1)]);
    expect([...kiosk.errors, ...tablet.errors, ...counter.errors]).toEqual([]);
  });
});
