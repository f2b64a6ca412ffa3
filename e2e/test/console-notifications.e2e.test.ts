import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smsGateway, type SmsGateway } from '../../server/test/support/sms-gateway.ts';
import { webhookReceiver, type WebhookReceiver } from '../../server/test/support/webhook-receiver.ts';
import { launchBrowser, type TestBrowser } from '../support/browser.ts';
import { signIn } from '../support/pages.ts';
import { startStack, type Stack } from '../support/stack.ts';

// The manager console's notifications, in Chromium against the real server: an SMS channel set
// up (its secret never shown back) and tried; a template edited with its SMS cost in the
// preview; a leader added; a webhook whose log shows a delivery and sends it again; and a
// complaint taken through its case to resolved. SMS and webhooks go to real peers on 127.0.0.1.

const WEBHOOK_SECRET = 'console-webhook-secret-1';
let stack: Stack;
let browser: TestBrowser;
let gateway: SmsGateway;
let receiver: WebhookReceiver;
let page: Page;
const errors: string[] = [];
const contexts: BrowserContext[] = [];
// every tab and the case panel at 1366x768 (the channels tab full length)
const shots = process.env.CONSOLE_SCREENSHOTS ?? path.join(tmpdir(), 'shots-console-notify');
mkdirSync(shots, { recursive: true });
const shot = (name: string) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

const api: Stack['api'] = (...args) => stack.api(...args);
const login = (username: string) => stack.login(username);
async function until(what: () => boolean | Promise<boolean>, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await what()) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
}

beforeAll(async () => {
  [stack, browser, gateway, receiver] = await Promise.all([startStack(), launchBrowser(), smsGateway(), webhookReceiver(WEBHOOK_SECRET)]);
  const context = await browser.context({ width: 1366, height: 768 });
  contexts.push(context);
  page = await context.newPage();
  page.setDefaultTimeout(8000);
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${stack.baseUrl}/manage/#/notify`);
  await signIn(page, 'quanly');
  await page.getByTestId('notify-tab-channels').waitFor();
  console.log(`console notification screenshots: ${shots}`);
});
afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await stack?.close();
  await gateway?.close();
  await receiver?.close();
});

describe('the console\'s notifications page', () => {
  it('saves an SMS channel whose secret is never shown back, and sends a test', async () => {
    const sms = page.getByTestId('channel-sms');
    await sms.getByTestId('sms-provider').selectOption('http');
    await sms.getByTestId('sms-url').fill(gateway.url);
    await sms.getByTestId('sms-headers').fill('{"content-type": "application/json"}');
    await sms.getByTestId('sms-body').fill('{"to":{{to}},"text":{{text}},"key":{{key}}}');
    await sms.getByTestId('sms-secret-authorization').fill('Bearer gateway-token');
    await sms.getByTestId('channel-sms-enabled').check();
    await sms.getByTestId('save-sms').click();
    await sms.getByTestId('done-sms').waitFor();
    expect(await sms.getByTestId('sms-secret-authorization').inputValue()).toBe('');
    expect(await sms.getByTestId('sms-secret-authorization').getAttribute('placeholder')).toContain('Đã đặt');
    expect(await sms.getByTestId('sms-secret-authorization-state').innerText()).toContain('đã đặt');
    const listed = await api('GET', `/sites/${stack.siteId}/notification-channels`, await login('quanly'));
    expect(listed.text).not.toContain('gateway-token');
    expect(listed.body.channels[0]).toMatchObject({ kind: 'sms', enabled: true, secretsSet: ['authorization'] });
    // loaded afresh: still set, still empty, and nowhere in the page
    await page.reload();
    await sms.getByTestId('sms-url').waitFor();
    expect(await sms.getByTestId('sms-url').inputValue()).toBe(gateway.url);
    expect(await sms.getByTestId('sms-secret-authorization').inputValue()).toBe('');
    expect(await sms.getByTestId('sms-secret-authorization-state').innerText()).toContain('đã đặt');
    expect(await page.content()).not.toContain('gateway-token');

    await sms.getByTestId('sms-test-to').fill('0912 345 678');
    await sms.getByTestId('test-sms').click();
    const result = sms.getByTestId('test-sms-result');
    await result.waitFor();
    expect(await result.innerText()).toMatch(/^Gửi được · \d+ ms/);
    expect(gateway.messages.map((m) => m.to)).toContain('84912345678');
    await shot('1-channels');
  });

  it('edits a template with a live preview of its SMS cost', async () => {
    await page.getByTestId('notify-tab-templates').click();
    await page.getByTestId('template-ticket_called').click();
    const body = page.getByTestId('template-body');
    await page.getByTestId('template-preview').waitFor();
    // the default wording with the site's long name: two UCS-2 segments
    const before = Number(await page.getByTestId('segments-ucs2').innerText());
    expect(before).toBeLessThan(3);
    await body.fill('{site}: Kính mời công dân có số thứ tự {code} đến quầy số {counter} để được tiếp nhận hồ sơ. Xin cảm ơn! {oops}');
    await until(async () => (await page.getByTestId('segments-ucs2').innerText().catch(() => '')) === '3');
    expect(await page.getByTestId('segments-ucs2').innerText()).toBe('3');
    expect(await page.getByTestId('template-unknown').innerText()).toContain('{oops}');
    await shot('2-templates');
    await body.fill('{site}: Kính mời số {code} đến quầy {counter}.');
    await page.getByTestId('save-template').click();
    await page.getByTestId('done-template').waitFor();
    expect(await page.getByTestId('template-ticket_called').innerText()).toContain('đã sửa');
  });

  it('adds a leader who hears of complaints', async () => {
    await page.getByTestId('notify-tab-leaders').click();
    await page.getByTestId('add-leader').click();
    const row = page.getByTestId('leader').last();
    await row.locator('input').first().fill('Trần Văn Chủ tịch');
    await row.locator('input').nth(1).fill('0988 777 666');
    await row.getByTestId('save-leader').click();
    await until(async () => (await api('GET', `/sites/${stack.siteId}/notification-recipients`, await login('quanly'))).body.recipients.length === 1);
    const [leader] = (await api('GET', `/sites/${stack.siteId}/notification-recipients`, await login('quanly'))).body.recipients;
    expect(leader).toMatchObject({ name: 'Trần Văn Chủ tịch', channel: 'sms', address: '84988777666', topics: ['complaint'] });
    await shot('3-leaders');
  });

  it('adds a webhook, shows its deliveries, and sends one again', async () => {
    await page.getByTestId('notify-tab-webhooks').click();
    await page.getByTestId('webhook-url').fill(receiver.url);
    await page.getByTestId('webhook-secret').fill(WEBHOOK_SECRET);
    await page.getByTestId('webhook-event-ticket:issued').check();
    await page.getByTestId('add-webhook').click();
    await page.getByTestId('webhook').waitFor();
    const kiosk = await stack.device('kiosk');
    expect((await api('POST', `/sites/${stack.siteId}/tickets`, kiosk.token, { serviceId: stack.services.HT })).status).toBe(201);
    await until(() => receiver.events.length === 1);
    await page.getByTestId('webhook-log').click();
    const delivery = page.getByTestId('delivery').first();
    await delivery.waitFor();
    expect(await delivery.getAttribute('data-status')).toBe('sent');
    expect(await delivery.getByTestId('attempts').innerText()).toBe('1');
    await shot('4-webhooks');
    await delivery.getByTestId('resend').click();
    await until(() => receiver.requests.length === 2);
    // the log follows the message sent again by itself
    await until(async () => (await page.getByTestId('delivery').first().getByTestId('attempts').innerText().catch(() => '')) === '2');
    expect(await page.getByTestId('delivery').first().getByTestId('attempts').innerText()).toBe('2');
    // the receiver had it: the same event id, dropped as a repeat
    expect(receiver.events).toHaveLength(1);
    expect(JSON.parse(receiver.requests[1]!.body).id).toBe(receiver.events[0]!.id);
  });

  it('takes a complaint through its case, apart from the device alerts', async () => {
    const official = await login('canbo2');
    await api('POST', `/counters/${stack.counters[2]}/open`, official);
    expect((await api('POST', '/alerts/criticism', official, { comment: 'Cán bộ đi vắng lâu' })).status).toBe(201);
    await until(() => gateway.messages.some((m) => m.to === '84988777666'));
    // the channel sends unaccented (GSM-7, its default encoding)
    expect(gateway.messages.find((m) => m.to === '84988777666')?.text).toContain('Phan anh cua nguoi dan tai quay 2');

    await page.getByTestId('tab-monitor').click();
    await page.getByTestId('alerts-complaints').click();
    const alert = page.locator('[data-testid="alert"][data-kind="criticism"]').first();
    await alert.waitFor();
    await alert.getByTestId('case-open').click();
    await alert.getByTestId('case-owner').selectOption({ label: 'Trần Thị Quản Lý' });
    await alert.getByTestId('case-status').selectOption('investigating');
    await alert.getByTestId('case-save').click();
    await until(async () => (await alert.getByTestId('case-history').locator('li').count().catch(() => 0)) === 1);
    // a resolved complaint leaves the open ones: show them all to follow it
    await page.getByTestId('alerts').getByRole('checkbox').uncheck();
    await alert.getByTestId('case-status').selectOption('resolved');
    // resolving says how: no note, no save
    expect(await alert.getByTestId('case-save').isDisabled()).toBe(true);
    await alert.getByTestId('case-note').fill('Đã gặp công dân, cán bộ đã xin lỗi');
    await alert.getByTestId('case-save').click();
    await until(async () => (await alert.getByTestId('case-history').locator('li').count().catch(() => 0)) === 2);
    const history = await alert.getByTestId('case-history').innerText();
    expect(history).toContain('Đang xác minh');
    expect(history).toContain('Đã giải quyết');
    expect(history).toContain('Đã gặp công dân, cán bộ đã xin lỗi');
    await shot('7-case');
    await page.getByTestId('alerts-devices').click();
    expect(await page.locator('[data-testid="alert"][data-kind="criticism"]').count()).toBe(0);
    expect(errors).toEqual([]);
  });
  it('shows the delivery log and the settings', async () => {
    await page.getByTestId('tab-notify').click();
    await page.getByTestId('notify-tab-log').click();
    await page.getByTestId('delivery').first().waitFor();
    // the leader's SMS of the complaint, its number masked
    expect(await page.locator('[data-testid="delivery"] .to').allInnerTexts()).toContain('0988***666');
    expect(await page.content()).not.toContain('0988777666');
    await shot('5-log');
    await page.getByTestId('log-channel').selectOption('webhook');
    await until(async () => (await page.locator('[data-testid="delivery"] .to').allInnerTexts()).every((to) => to.startsWith('http://127.0.0.1')));
    expect(await page.locator('[data-testid="delivery"] .to').allInnerTexts()).not.toContain('0988***666');

    await page.getByTestId('notify-tab-settings').click();
    await page.getByTestId('offer-phone').waitFor();
    // a key for the dossier system, shown once, that may also look dossiers up
    await page.getByTestId('key-name').fill('Một cửa điện tử tỉnh');
    await page.getByTestId('scope-read').check();
    await page.getByTestId('add-key').click();
    const key = (await page.getByTestId('new-key').locator('code').innerText()).trim();
    expect(key.length).toBeGreaterThan(20);
    await page.getByTestId('key').waitFor();
    await shot('6-settings');
    const keys = await api('GET', `/sites/${stack.siteId}/integration-keys`, await login('quanly'));
    expect(keys.body.keys).toHaveLength(1);
    expect(keys.body.keys[0].scopes).toEqual(['dossier-results:write', 'dossiers:read']);
    expect(await page.getByTestId('key').innerText()).toContain('Tra cứu hồ sơ');
    expect(keys.text).not.toContain(key);
    await page.getByTestId('revoke-key').click();
    await until(async () => (await page.getByTestId('key').count()) === 0);
    expect((await api('GET', `/sites/${stack.siteId}/integration-keys`, await login('quanly'))).body.keys).toHaveLength(0);
    expect(errors).toEqual([]);
  });
});
