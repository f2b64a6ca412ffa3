import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smsGateway, type SmsGateway } from '../../server/test/support/sms-gateway.ts';
import { launchBrowser, type TestBrowser } from '../support/browser.ts';
import { startStack, type Stack } from '../support/stack.ts';

// A citizen gives a phone number at the kiosk, on its number pad, after reading the consent
// text, and gets an SMS when called: Chromium against the real server, the SMS through a real
// HTTP gateway on 127.0.0.1.

let stack: Stack;
let browser: TestBrowser;
let gateway: SmsGateway;
const contexts: BrowserContext[] = [];
const shots = process.env.KIOSK_SCREENSHOTS ?? path.join(tmpdir(), 'qms-kiosk-phone-e2e');
mkdirSync(shots, { recursive: true });
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, `${name}.png`) });

const api: Stack['api'] = (...args) => stack.api(...args);
const login = (username: string) => stack.login(username);

beforeAll(async () => {
  [stack, browser, gateway] = await Promise.all([startStack(), launchBrowser(), smsGateway()]);
  const manager = await login('quanly');
  const saved = await api('PUT', `/sites/${stack.siteId}/notification-channels/sms`, manager,
    { enabled: true, settings: gateway.settings, secrets: { authorization: 'Bearer gateway-token' } });
  expect(saved.status).toBe(200);
  console.log(`kiosk phone screenshots: ${shots}`);
});
afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await stack?.close();
  await gateway?.close();
});

async function kiosk(options: { clock?: boolean; size?: { width: number; height: number } } = {}) {
  const device = await stack.device('kiosk');
  const context = await browser.context(options.size ?? { width: 1080, height: 1920 });
  contexts.push(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // a clock the test moves (it runs on by itself meanwhile): the 20 s idle wait takes no time
  if (options.clock) await page.clock.install();
  await page.goto(`${stack.baseUrl}/kiosk/?pair=${device.pairingCode}`);
  await page.locator('[data-service="HT"]').waitFor();
  return { page, errors };
}
/** buttons a finger could miss (the kiosk's rule: 90 px both ways), as kiosk.e2e.test.ts checks */
const smallTargets = (page: Page) => page.evaluate(() => [...document.querySelectorAll('button')]
  .map((b) => ({ b, r: b.getBoundingClientRect() }))
  .filter(({ r }) => r.width > 0 && r.height > 0 && (r.width < 90 || r.height < 90))
  .map(({ b, r }) => `${b.textContent?.trim()} ${Math.round(r.width)}x${Math.round(r.height)}`));
/** nothing runs off the screen (the kiosk has no scroll a citizen would find) */
const overflows = (page: Page) => page.evaluate(() => [...document.querySelectorAll('[data-testid="phone"] *')]
  .map((e) => ({ e, r: e.getBoundingClientRect() }))
  .filter(({ r }) => r.width > 0 && (r.right > innerWidth + 1 || r.bottom > innerHeight + 1))
  .map(({ e }) => e.outerHTML.slice(0, 80)));
const typeNumber = async (page: Page, digits: string) => {
  for (const d of digits) await page.locator(`.pad [data-key="${d}"]`).click();
};

describe('the kiosk\'s offer of a text message', () => {
  it('takes a number on the pad with consent, and the citizen is texted when called', async () => {
    const { page, errors } = await kiosk();
    await page.locator('[data-service="HT"]').click();
    const code = await page.getByTestId('ticket-code').innerText();
    await page.getByTestId('phone-offer').waitFor();
    await shot(page, 'phone-0-ticket-vi');
    await page.getByTestId('phone-offer').click();
    await page.getByTestId('phone').waitFor();
    await shot(page, 'phone-1-pad-empty-vi');
    await typeNumber(page, '0912345678');
    expect(await page.getByTestId('phone-number').innerText()).toBe('0912 345 678');
    await shot(page, 'phone-2-pad-typed-vi');
    expect(await smallTargets(page)).toEqual([]);
    expect(await overflows(page)).toEqual([]);
    await page.getByTestId('phone-next').click();
    expect(await page.getByTestId('consent').innerText()).toContain('Nghị định 13/2023/NĐ-CP');
    await shot(page, 'phone-3-consent-vi');
    expect(await smallTargets(page)).toEqual([]);
    await page.getByTestId('consent-agree').click();
    const saved = page.getByTestId('phone-saved');
    await saved.waitFor();
    expect(await saved.innerText()).toMatch(/Đã ghi nhận số 0912\*\*\*678[\s\S]*được xoá lúc \d\d:\d\d/);
    await shot(page, 'phone-4-saved-vi');

    const ticket = await stack.t.db.selectFrom('ticket').select('id').where('code', '=', code).where('siteId', '=', stack.siteId).executeTakeFirstOrThrow();
    const official = await login('canbo1');
    expect((await api('POST', `/counters/${stack.counters[1]}/open`, official)).status).toBe(200);
    expect((await api('POST', `/tickets/${ticket.id}/call`, official)).status).toBe(200);
    const deadline = Date.now() + 10_000;
    while (!gateway.messages.some((m) => m.to === '84912345678') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(gateway.messages.filter((m) => m.to === '84912345678').map((m) => m.text)).toEqual([expect.stringContaining(`Mời số ${code} đến quầy 1.`)]);
    expect(errors).toEqual([]);
  });

  it('says a landline is not a mobile number, in the citizen\'s language, and keeps nothing', async () => {
    const { page, errors } = await kiosk();
    await page.getByTestId('lang').click();
    await page.locator('[data-service="HT"]').click();
    await page.getByTestId('phone-offer').click();
    await typeNumber(page, '0212345678');
    await shot(page, 'phone-5-pad-en');
    await page.getByTestId('phone-next').click();
    // the legal wording reads in Vietnamese first, even on the English screen
    const consent = await page.getByTestId('consent').innerText();
    expect(consent).toContain('erased at the end of the working day');
    expect(consent.indexOf('Nghị định 13/2023/NĐ-CP')).toBeLessThan(consent.indexOf('Decree 13/2023/NĐ-CP'));
    await shot(page, 'phone-6-consent-en');
    await page.getByTestId('consent-agree').click();
    const error = page.getByTestId('phone-error');
    await error.waitFor();
    expect(await error.innerText()).toContain('That is not a mobile number');
    await shot(page, 'phone-7-error-en');
    expect(await stack.t.db.selectFrom('ticketContact').select('phone').where('phone', 'like', '84212%').execute()).toEqual([]);
    expect(gateway.messages.filter((m) => m.to.includes('212345678'))).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('goes back to the start screen after 20 s without a touch, from each new step (landscape)', async () => {
    const { page, errors } = await kiosk({ clock: true, size: { width: 1920, height: 1080 } });
    const home = page.locator('[data-service="HT"]');
    const idle = async () => {
      await page.clock.fastForward(21_000);
      await home.waitFor({ timeout: 5_000 });
    };
    const toPad = async () => {
      await home.click();
      await page.getByTestId('phone-offer').click();
      await page.getByTestId('phone').waitFor();
    };
    await toPad(); // the number pad, half typed
    await typeNumber(page, '0912');
    await shot(page, 'phone-landscape-1-pad-vi');
    expect(await smallTargets(page)).toEqual([]);
    expect(await overflows(page)).toEqual([]);
    await idle();
    await toPad(); // the consent text
    await typeNumber(page, '0987654321');
    await page.getByTestId('phone-next').click();
    await page.getByTestId('consent-agree').waitFor();
    await shot(page, 'phone-landscape-2-consent-vi');
    expect(await smallTargets(page)).toEqual([]);
    expect(await overflows(page)).toEqual([]);
    await idle();
    await toPad(); // the confirmation
    await typeNumber(page, '0987654321');
    await page.getByTestId('phone-next').click();
    await page.getByTestId('consent-agree').click();
    await page.getByTestId('phone-saved').waitFor();
    await shot(page, 'phone-landscape-3-saved-vi');
    await idle();
    expect(errors).toEqual([]);
  });

  it('is on the ticket\'s phone page too: a number with consent, and a way to stop', async () => {
    const kioskDevice = await stack.device('kiosk');
    const issued = await api('POST', `/sites/${stack.siteId}/tickets`, kioskDevice.token, { serviceId: stack.services.CT });
    expect(issued.status).toBe(201);
    const { id, publicId } = issued.body.ticket as { id: string; publicId: string };
    const context = await browser.context({ width: 390, height: 844 });
    contexts.push(context);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${stack.baseUrl}/t/${publicId}`);
    await page.locator('#tel').fill('0903 456 789');
    expect(await page.locator('#smsform').innerText()).toContain('Nghị định 13/2023/NĐ-CP');
    await shot(page, 'phone-page-1-form-vi');
    await page.locator('#smsgo').click();
    await page.locator('#smsset').waitFor();
    expect(await page.locator('#smsphone').innerText()).toBe('0903***789');
    expect((await stack.t.db.selectFrom('ticketContact').select('phone').where('ticketId', '=', id).executeTakeFirst())?.phone).toBe('84903456789');
    await page.locator('#lang').click();
    await shot(page, 'phone-page-2-set-en');
    await page.locator('#smsoff').click();
    await page.locator('#smsdone').waitFor();
    expect(await page.locator('#smsdone').innerText()).toContain('your number was erased');
    expect(await stack.t.db.selectFrom('ticketContact').select('phone').where('ticketId', '=', id).execute()).toEqual([]);
    // reloaded: the form again, nothing remembered
    await page.reload();
    expect(await page.locator('#smsform').isVisible()).toBe(true);
    await shot(page, 'phone-page-3-form-after-stop');
    expect(errors).toEqual([]);
  });
});
