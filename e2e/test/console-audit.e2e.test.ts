import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screens } from '../support/screens.ts';
import type { Stack } from '../support/stack.ts';
import { signIn } from '../support/pages.ts';

// The console's audit page (docs/audit.md): a manager renames a service on the configuration
// page, then finds that change on "Nhật ký" with who made it, when (dd/MM/yyyy HH:mm:ss) and
// from what to what; filters by action and text; "load more" brings the older entries.
// Screenshots at 1440x900, in Vietnamese and in English.

const SHOTS = process.env.QMS_SCREENSHOTS ?? path.join(tmpdir(), 'qms-e2e-console-audit');
mkdirSync(SHOTS, { recursive: true });

const view = screens();
let stack: Stack;
beforeAll(() => {
  stack = view.stack;
});
const open = (url: string) => view.open(url);
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
const entries = (page: Page, action?: string) => page.locator(action ? `[data-testid="audit-entry"][data-action="${action}"]` : '[data-testid="audit-entry"]');

describe('the audit page', () => {
  it('a manager changes a service, then finds the change on the audit page', async () => {
    const { page, errors } = await open('/manage/');
    await signIn(page, 'quanly');
    await page.getByTestId('tab-config').click();
    await page.getByTestId('config-tab-services').click();
    await page.getByTestId('service-row-HT').click();
    const name = page.getByLabel('Tên tiếng Việt', { exact: true });
    const before = await name.inputValue();
    await name.fill('Hộ tịch – Chứng thực');
    await page.getByRole('button', { name: 'Lưu lĩnh vực' }).click();
    await expect.poll(async () => (await stack.t.db.selectFrom('service').select('name').where('id', '=', stack.services.HT!).executeTakeFirstOrThrow()).name.vi)
      .toBe('Hộ tịch – Chứng thực');

    await page.getByTestId('tab-audit').click();
    await expect.poll(() => page.url()).toMatch(/#\/audit$/);
    const change = entries(page, 'service.update');
    await change.first().waitFor();
    expect(await change.count()).toBe(1);
    const row = (await change.first().innerText()).replace(/\s+/g, ' ');
    expect(row).toContain('quanly');
    expect(row).toContain('Sửa lĩnh vực');
    expect(row).toContain(`${before} → Hộ tịch – Chứng thực`);
    expect(row).toMatch(/^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2} /);
    // the sign-in before it, with where it came from
    expect((await entries(page, 'login').first().innerText()).replace(/\s+/g, ' ')).toContain('127.0.0.1');
    await shot(page, 'audit-vi');

    // filters: services only, then text
    await page.getByTestId('audit-action').selectOption({ label: 'Lĩnh vực, thủ tục' });
    await page.getByTestId('audit-search').click();
    await expect.poll(() => entries(page, 'login').count()).toBe(0);
    expect(await entries(page).count()).toBe(1);
    await page.getByTestId('audit-action').selectOption('');
    await page.getByTestId('audit-q').fill('Chứng thực');
    await page.getByTestId('audit-search').click();
    await expect.poll(() => entries(page).count()).toBe(1);
    await page.getByTestId('audit-q').fill('');

    // more than a page: "load more" brings the older entries, the newest stay first
    const token = await stack.login('quanly');
    const kiosk = await stack.device('kiosk');
    for (let i = 1; i <= 55; i++) expect((await stack.api('PUT', `/devices/${kiosk.id}`, token, { name: `Kiosk ${i}` })).status).toBe(204);
    await page.getByTestId('audit-search').click();
    await expect.poll(() => entries(page).count()).toBe(50);
    expect(await entries(page).first().innerText()).toContain('Kiosk 55');
    await page.getByTestId('audit-more').click();
    await expect.poll(() => entries(page).count()).toBeGreaterThan(55);
    expect(await entries(page, 'service.update').count()).toBe(1);
    await expect.poll(() => page.getByTestId('audit-more').count()).toBe(0);

    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('columnheader', { name: 'Changes' }).waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'audit-en');
    expect(errors).toEqual([]);
  });
});
