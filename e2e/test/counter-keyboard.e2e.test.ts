import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../support/browser.ts';
import { startStack, STAFF_PASSWORD, type Stack } from '../support/stack.ts';

// The counter terminal worked from the keyboard alone, in Chromium against the real server:
// every key the screen advertises (the F keys on its buttons, the keys printed in its dialogs) is
// pressed, and each press is checked on the server (counter and ticket status in the database)
// and on the screen. The keys are read from the screen itself, so a key added to a button or a
// dialog later and left out of here fails the last assertion.

const SHOTS = process.env.QMS_SCREENSHOTS ?? path.join(tmpdir(), 'qms-e2e-counter-keyboard');
mkdirSync(SHOTS, { recursive: true });

/** the pause reasons, as the terminal stores them (in Vietnamese) */
const REASONS = ['Nghỉ giải lao', 'Họp', 'Hỗ trợ công dân ngoài quầy', 'Xử lý hồ sơ', 'Sự cố kỹ thuật'];
/** what a <kbd> shows, as the key it names */
const KEY_OF_LABEL: Record<string, string> = { Esc: 'Escape', '↑': 'ArrowUp', '↓': 'ArrowDown' };

let stack: Stack;
let browser: TestBrowser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe('the counter terminal from the keyboard alone', () => {
  it('does what every advertised key says: F1-F10, the pause reasons, transfer targets, walk-in services, ↑↓, Enter and Esc', async () => {
    const kiosk = await stack.device('kiosk');
    const counterId = stack.counters[1]!;
    const db = stack.t.db;
    const context = await browser.context({ width: 1366, height: 768 });
    const page = await context.newPage();
    page.setDefaultTimeout(8000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    const advertised = new Set<string>();
    const pressed = new Set<string>();
    /** the keys printed on screen now, all of which must be pressed before the end */
    const look = async () => {
      const labels = await page.evaluate(() => [...document.querySelectorAll('kbd')]
        .filter((k) => k.checkVisibility()).map((k) => k.textContent!.trim()));
      for (const label of labels) advertised.add(KEY_OF_LABEL[label] ?? label);
    };
    const press = async (key: string) => {
      pressed.add(key);
      await page.keyboard.press(key);
    };
    const text = (testId: string) => page.getByTestId(testId).innerText().catch(() => '');
    const counter = () => db.selectFrom('counter').select(['status', 'pauseReason', 'staffId']).where('id', '=', counterId).executeTakeFirstOrThrow();
    const ticket = (id: string) => db.selectFrom('ticket').select(['status', 'serviceId', 'counterId']).where('id', '=', id).executeTakeFirstOrThrow();
    const events = async (id: string) => (await db.selectFrom('ticketEvent').select('type').where('ticketId', '=', id).orderBy('at').orderBy('id').execute()).map((e) => e.type);
    const issue = async (service = 'HT') => {
      const res = await fetch(`${stack.baseUrl}/api/v1/sites/${stack.siteId}/tickets`, {
        method: 'POST', headers: { authorization: `Bearer ${kiosk.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ serviceId: stack.services[service] }),
      });
      expect(res.status).toBe(201);
      const { ticket } = (await res.json()) as { ticket: { id: string; code: string } };
      await expect.poll(() => text('next-list')).toContain(ticket.code);
      return ticket;
    };
    const dialogGone = (testId: string) => expect.poll(() => page.getByTestId(testId).count()).toBe(0);

    // --- signed in at counter 1, closed
    await page.goto(`${stack.baseUrl}/counter/`);
    await page.getByLabel('Tên đăng nhập').fill('canbo1');
    await page.getByLabel('Mật khẩu').fill(STAFF_PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByTestId('counter-1').click();
    await expect.poll(() => text('counter-status')).toContain('Đang đóng');
    await look();

    // F9 opens the counter
    await press('F9');
    await expect.poll(async () => (await counter()).status).toBe('open');
    await expect.poll(() => text('counter-status')).toContain('Đang mở');
    await look();

    // F1 with nobody waiting says so
    await press('F1');
    await expect.poll(() => text('notice')).toContain('Không còn công dân nào đang chờ');

    // --- F1 calls, F2 recalls, F3 starts, F4 finishes
    const served = await issue();
    await press('F1');
    await expect.poll(async () => (await ticket(served.id)).status).toBe('called');
    expect((await ticket(served.id)).counterId).toBe(counterId);
    await expect.poll(() => text('current-code')).toBe(served.code);
    await look();
    await press('F2');
    await expect.poll(() => events(served.id)).toEqual(['issued', 'called', 'recalled']);
    await expect.poll(() => text('notice')).toContain(`Đã gọi lại: ${served.code}`);
    await press('F3');
    await expect.poll(async () => (await ticket(served.id)).status).toBe('serving');
    await expect.poll(() => text('current-ticket')).toContain('Đang phục vụ');
    await look();
    await press('F4');
    await expect.poll(async () => (await ticket(served.id)).status).toBe('done');
    await expect.poll(() => text('notice')).toContain(`Đã hoàn thành: ${served.code}`);
    await expect.poll(() => text('current-ticket')).toContain('Chưa có số nào tại quầy');

    // --- F5: no-show
    const absent = await issue();
    await press('F1');
    await expect.poll(() => text('current-code')).toBe(absent.code);
    await press('F5');
    await expect.poll(async () => (await ticket(absent.id)).status).toBe('no_show');
    await expect.poll(() => text('notice')).toContain(`Đã đánh dấu vắng mặt: ${absent.code}`);

    // --- F6: Esc leaves the ticket where it is; each number sends it to that service; ↑↓ and Enter too
    const dialog = page.getByTestId('transfer-dialog');
    const targets = async () => (await dialog.locator('button[data-testid^="transfer-"]').evaluateAll((bs) => bs.map((b) => b.dataset.testid!.slice('transfer-'.length))));
    const first = await issue();
    await press('F1');
    await expect.poll(() => text('current-code')).toBe(first.code);
    await press('F6');
    await dialog.waitFor();
    await look();
    await page.screenshot({ path: path.join(SHOTS, 'transfer-1366x768.png') });
    const codes = await targets();
    expect(codes.length).toBeGreaterThanOrEqual(2);
    await press('Escape');
    await dialogGone('transfer-dialog');
    expect(await ticket(first.id)).toMatchObject({ status: 'called', serviceId: stack.services.HT });
    // nothing chosen yet: Enter transfers nobody
    await press('F6');
    await dialog.waitFor();
    await press('Enter');
    expect(await dialog.isVisible()).toBe(true);
    expect((await ticket(first.id)).status).toBe('called');
    await press('Escape');
    await dialogGone('transfer-dialog');

    let current = first;
    for (let i = 1; i <= Math.min(9, codes.length); i++) {
      if (i > 1) {
        current = await issue();
        await press('F1');
        await expect.poll(() => text('current-code')).toBe(current.code);
      }
      await press('F6');
      await dialog.waitFor();
      expect(await targets()).toEqual(codes);
      await look();
      await press(String(i));
      await expect.poll(async () => (await ticket(current.id)).serviceId).toBe(stack.services[codes[i - 1]!]);
      expect((await ticket(current.id)).status).toBe('waiting');
      await expect.poll(() => text('notice')).toContain('Đã chuyển sang');
      await dialogGone('transfer-dialog');
    }
    const arrowed = await issue();
    await press('F1');
    await expect.poll(() => text('current-code')).toBe(arrowed.code);
    await press('F6');
    await dialog.waitFor();
    await press('ArrowDown');
    await press('ArrowDown');
    await press('ArrowUp');
    await press('ArrowDown');
    await press('Enter');
    await expect.poll(async () => (await ticket(arrowed.id)).serviceId).toBe(stack.services[codes[1]!]);
    await dialogGone('transfer-dialog');

    // --- F7: Esc calls nobody; ↑↓ choose and Enter calls; typing a code finds it
    const [a, b, c] = [await issue(), await issue(), await issue()];
    await press('F7');
    await page.getByTestId('pick-dialog').waitFor();
    await look();
    await press('Escape');
    await dialogGone('pick-dialog');
    expect((await ticket(a.id)).status).toBe('waiting');
    await press('F7');
    await page.getByTestId('pick-dialog').waitFor();
    await expect.poll(() => page.getByTestId('pick-dialog').locator('li button').count()).toBe(3);
    await press('ArrowDown');
    await press('ArrowDown');
    await press('ArrowUp');
    await page.screenshot({ path: path.join(SHOTS, 'pick-1366x768.png') });
    await press('Enter');
    await expect.poll(async () => (await ticket(b.id)).status).toBe('called');
    expect((await ticket(a.id)).status).toBe('waiting');
    await expect.poll(() => text('current-code')).toBe(b.code);
    await press('F4');
    await expect.poll(async () => (await ticket(b.id)).status).toBe('done');
    await expect.poll(() => text('current-ticket')).toContain('Chưa có số nào tại quầy');
    await press('F7');
    await page.getByTestId('pick-dialog').waitFor();
    await page.keyboard.type(c.code);
    await expect.poll(() => page.getByTestId('pick-dialog').locator('li button').count()).toBe(1);
    await press('Enter');
    await expect.poll(async () => (await ticket(c.id)).status).toBe('called');
    await expect.poll(() => text('current-code')).toBe(c.code);
    await press('F4');
    await expect.poll(async () => (await ticket(c.id)).status).toBe('done');
    await expect.poll(() => text('current-ticket')).toContain('Chưa có số nào tại quầy');

    // --- F8: Esc keeps the counter open; each reason's number then Enter pauses with that reason;
    // F8 again resumes
    await press('F8');
    await page.getByTestId('pause-dialog').waitFor();
    await look();
    await press('Escape');
    await dialogGone('pause-dialog');
    expect((await counter()).status).toBe('open');
    for (const [i, reason] of REASONS.entries()) {
      await press('F8');
      await page.getByTestId('pause-dialog').waitFor();
      await press(String(i + 1));
      if (i === 1) await page.screenshot({ path: path.join(SHOTS, 'pause-1366x768.png') });
      await press('Enter');
      await expect.poll(async () => counter(), { timeout: 3000 }).toMatchObject({ status: 'paused', pauseReason: reason });
      await expect.poll(() => text('counter-status')).toContain(`Tạm dừng · ${reason}`);
      await dialogGone('pause-dialog');
      await look();
      // paused: F1 calls nobody and says why
      await press('F1');
      await expect.poll(() => text('notice')).toContain('Quầy đang tạm dừng');
      await press('F8');
      await expect.poll(async () => (await counter()).status).toBe('open');
      await expect.poll(() => text('counter-status')).toContain('Đang mở');
      // the socket can show the counter open before the resume's own reply is back; until then
      // the terminal is busy and drops a second F8 as a double press
      await expect.poll(() => page.getByTestId('pause').getAttribute('aria-disabled')).not.toBe('true');
    }
    expect((await ticket(a.id)).status).toBe('waiting');

    // --- F10: Esc issues nothing; each number key chooses that service (the counter's own first);
    // Enter issues the number, and Enter again closes it
    const walkIn = page.getByTestId('walk-in-dialog');
    const tickets = async () => (await db.selectFrom('ticket').select('id').where('siteId', '=', stack.siteId).execute()).length;
    const count = await tickets();
    await press('F10');
    await walkIn.waitFor();
    await look();
    await press('Escape');
    await dialogGone('walk-in-dialog');
    expect(await tickets()).toBe(count);
    await press('F10');
    await walkIn.waitFor();
    const listed = await walkIn.locator('button[data-testid^="walk-in-service-"]').evaluateAll((bs) => bs.map((b) => b.dataset.testid!.slice('walk-in-service-'.length)));
    expect(listed[0]).toBe('HT');
    for (let i = 1; i <= Math.min(9, listed.length); i++) {
      await press(String(i));
      expect(await walkIn.locator('button[aria-pressed="true"][data-testid^="walk-in-service-"]').getAttribute('data-testid')).toBe(`walk-in-service-${listed[i - 1]}`);
    }
    await press('Enter');
    await page.getByTestId('walk-in-issued').waitFor();
    await look();
    const issuedCode = await text('walk-in-code');
    const walked = await db.selectFrom('ticket').select(['status', 'serviceId']).where('siteId', '=', stack.siteId).where('code', '=', issuedCode).executeTakeFirstOrThrow();
    expect(walked).toEqual({ status: 'waiting', serviceId: stack.services[listed[Math.min(9, listed.length) - 1]!] });
    await press('Enter');
    await dialogGone('walk-in-dialog');

    // --- F9 closes the counter at the end of the day
    await press('F9');
    await expect.poll(async () => (await counter()).status).toBe('closed');
    await expect.poll(() => text('counter-status')).toContain('Đang đóng');

    // every key the screen advertised was pressed, the nine function keys among them
    for (const f of ['F1', 'F2', 'F3', 'F4', 'F5', 'F6', 'F7', 'F8', 'F9', 'F10']) expect(advertised).toContain(f);
    expect([...advertised].filter((k) => !pressed.has(k))).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);
});
