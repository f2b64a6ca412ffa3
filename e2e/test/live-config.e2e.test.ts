import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type QmsClient } from '@qms/protocol/client';
import { startTestPrinter } from '@qms/hardware/testing';
import { launchBrowser, type TestBrowser } from '../support/browser.ts';
import { STAFF_PASSWORD, startStack, type Stack } from '../support/stack.ts';
import { signIn } from '../support/pages.ts';

// Configuration changes reach the screens live (issue 8): a manager changes something over the
// API and the kiosk, the wall display, the counter terminal and the rating tablet show it
// within a second, without reloading and without losing what they were doing (a citizen
// half-way through the kiosk, the announcements a display has queued). Also a display's zone
// set while it runs, and the system-voice setting. Screenshots go to $LIVE_SCREENSHOTS or a temp dir.

let stack: Stack;
let browser: TestBrowser;
let manager: QmsClient;
let kioskClient: QmsClient;
const contexts: BrowserContext[] = [];
const shots = process.env.LIVE_SCREENSHOTS ?? path.join(tmpdir(), 'qms-live-e2e');
mkdirSync(shots, { recursive: true });

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  manager = createClient({ baseUrl: stack.baseUrl });
  await manager.login('quanly', STAFF_PASSWORD);
  kioskClient = createClient({ baseUrl: stack.baseUrl, token: (await stack.device('kiosk')).token });
  console.log(`live configuration screenshots: ${shots}`);
});
afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await stack?.close();
});

async function open(url: string, size: { width: number; height: number }, ready: (page: Page) => Promise<unknown>) {
  const context = await browser.context(size);
  contexts.push(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${stack.baseUrl}${url}`);
  await ready(page);
  // a marker that a reload would wipe out
  await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
  return { page, errors };
}
/** The shared sign-in form of the counter terminal and the manager console. */
const sameDocument = (page: Page) => page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument === true);
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, `${name}.png`) });

/** Milliseconds until `check` holds on the page, polled every animation frame. */
async function until<A extends string | string[]>(page: Page, check: (arg: A) => boolean, arg: A, timeout = 5000): Promise<number> {
  const started = Date.now();
  await page.waitForFunction(check as (arg: unknown) => boolean, arg as unknown, { polling: 'raf', timeout });
  return Date.now() - started;
}

interface Played { seq: number; clips: string[]; text: { vi: string; en: string }; outcome: string }
const voiceLog = (page: Page) => page.evaluate(() => ((window as unknown as { __qmsVoiceLog?: Played[] }).__qmsVoiceLog ?? []));

describe('configuration changes on running screens', () => {
  it('a renamed service shows on the kiosk, the display, the counter terminal and the tablet at once (live, not on a reload), nothing lost', async () => {
    // counter 1 and its first service: what the terminal and the tablet of counter 1 list
    const site = await manager.site(stack.siteId);
    const counter1 = site.counters.find((c) => c.number === 1)!;
    const service = site.services.find((s) => s.id === counter1.serviceIds[0])!;
    const renamed = { vi: `${service.name.vi} (mới)`, en: `${service.name.en} (new)` };

    const kiosk = await open(`/kiosk/?pair=${(await stack.device('kiosk')).pairingCode}`, { width: 1080, height: 1920 },
      (p) => p.locator(`[data-service="${service.code}"]`).waitFor({ timeout: 10_000 }));
    const display = await open(`/display/?pair=${(await stack.device('display')).pairingCode}`, { width: 1920, height: 1080 },
      (p) => p.getByTestId('board').waitFor({ timeout: 10_000 }));
    const tablet = await open(`/rating/?pair=${(await stack.device('rating', 1)).pairingCode}`, { width: 1280, height: 800 },
      (p) => p.getByTestId('idle').waitFor({ timeout: 10_000 }));
    const terminal = await open('/counter/', { width: 1366, height: 768 }, async (p) => {
      await signIn(p, 'canbo1');
      await p.getByTestId('counter-1').click({ timeout: 10_000 });
      await p.getByTestId('queue-panel').waitFor();
    });
    await expect.poll(() => tablet.page.getByTestId('idle').innerText(), { timeout: 5000 }).toContain(service.name.vi);

    // a citizen is half-way: the priority groups, then the elderly group's list of services
    await kiosk.page.getByTestId('priority').click();
    await kiosk.page.locator('[data-priority="elderly"]').click();
    const prioButton = kiosk.page.locator(`button.prio[data-service="${service.code}"]`);
    await prioButton.waitFor();

    // the display is announcing: two calls queued (each takes about 12 s to say)
    const officials = await Promise.all([1, 2].map(async (n) => {
      const c = createClient({ baseUrl: stack.baseUrl });
      await c.login(`canbo${n}`, STAFF_PASSWORD);
      await c.openCounter(stack.counters[n]!);
      return c;
    }));
    const counter2 = site.counters.find((c) => c.number === 2)!;
    for (const serviceId of [counter1.serviceIds[0]!, counter2.serviceIds[0]!]) await kioskClient.issueTicket(stack.siteId, { serviceId });
    const calls = [await officials[0]!.callNext(stack.counters[1]!), await officials[1]!.callNext(stack.counters[2]!)];
    await expect.poll(() => display.page.evaluate(() => document.querySelector('[data-testid="now-code"]')?.textContent), { timeout: 5000 }).toBe(calls[1]!.code);

    // the manager renames the service
    const changedAt = Date.now();
    const put = await fetch(`${stack.baseUrl}/api/v1/services/${service.id}`, {
      method: 'PUT', headers: { authorization: `Bearer ${manager.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: renamed }),
    });
    expect(put.status).toBe(200);
    const shown = await Promise.all([
      until(kiosk.page, ([code, name]: string[]) => document.querySelector(`button.prio[data-service="${code}"] .name`)?.textContent === name, [service.code, renamed.vi]),
      until(display.page, ([prefix, name]: string[]) => document.querySelector(`[data-testid="waiting"] li[data-service="${prefix}"] .name .vi`)?.textContent === name,
        [service.prefix, renamed.vi]),
      until(terminal.page, (name: string) => document.querySelector('[data-testid="queue-panel"]')?.textContent?.includes(name) ?? false, renamed.vi),
      until(tablet.page, (name: string) => document.querySelector('[data-testid="idle"]')?.textContent?.includes(name) ?? false, renamed.vi),
    ]);
    const elapsed = Date.now() - changedAt;
    console.log(`renamed service shown after ${elapsed} ms (kiosk ${shown[0]}, display ${shown[1]}, terminal ${shown[2]}, tablet ${shown[3]} ms of waiting)`);
    // what the screens take once the change is saved (the PUT's own time is the server's load, not
    // theirs). Live, not on a reload: well under a few seconds even with four Chromium pages on a
    // shared two-core machine (1.3 s seen under load, ~0.2 s quiet); the logged figure is the speed.
    expect(Math.max(...shown)).toBeLessThan(3000);
    // the English name too (the display's second line, the kiosk's in English)
    expect(await display.page.locator(`[data-testid="waiting"] li[data-service="${service.prefix}"] .name .en`).textContent()).toBe(renamed.en);
    await shot(kiosk.page, 'kiosk-renamed-1080x1920');
    await shot(display.page, 'display-renamed-1920x1080');

    // nothing reloaded; the citizen is still on the elderly group's list
    for (const page of [kiosk.page, display.page, terminal.page, tablet.page]) expect(await sameDocument(page)).toBe(true);
    expect(await prioButton.isVisible()).toBe(true);
    // and the display says both calls, in order, whole
    await expect.poll(async () => (await voiceLog(display.page)).length, { timeout: 40_000, interval: 250 }).toBe(2);
    const log = await voiceLog(display.page);
    expect(log.map((p) => [p.seq, p.outcome, p.text.vi.includes(calls[log.indexOf(p)]!.code)])).toEqual([[1, 'played', true], [2, 'played', true]]);
    for (const { errors } of [kiosk, display, terminal, tablet]) expect(errors).toEqual([]);
    // four screens to start, then two announcements of about 12 s each: more than the default 30 s
  }, 90_000);

  it('the manager\'s devices screen: a display\'s zone (live on it) and a kiosk\'s printer with a test ticket', async () => {
    const printer = await startTestPrinter();
    try {
      const displayDevice = await stack.device('display');
      const kioskDevice = await stack.device('kiosk');
      const display = await open(`/display/?pair=${displayDevice.pairingCode}`, { width: 1920, height: 1080 },
        (p) => p.getByTestId('board').waitFor({ timeout: 10_000 }));
      const countersShown = () => display.page.locator('[data-counter]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-counter'))));
      expect((await countersShown()).length).toBeGreaterThan(2);

      const manage = await open('/manage/', { width: 1920, height: 1080 }, async (p) => {
        await signIn(p, 'quanly');
        await p.getByTestId('tab-config').click({ timeout: 10_000 });
        await p.getByTestId('config-tab-devices').click();
        await p.getByTestId('devices-table').waitFor();
      });
      const page = manage.page;

      // the display's zone: counter 3 only
      await page.getByTestId(`zone-${displayDevice.id}`).click();
      await page.locator('[data-zone-counter="3"]').check();
      expect(await page.getByTestId('zone-summary').innerText()).toBe('1 quầy, 0 lĩnh vực');
      await shot(page, 'manager-devices-zone-1920x1080');
      await page.getByTestId('save-zone').click();
      await page.getByTestId(`saved-zone-${displayDevice.id}`).waitFor();
      await expect.poll(countersShown, { timeout: 2000, interval: 50 }).toEqual([3]);
      expect(await manager.displayZone(displayDevice.id)).toEqual({ counterIds: [stack.counters[3]] });
      expect(await sameDocument(display.page)).toBe(true);

      // the kiosk's printer: a network printer on 58 mm paper, then a test ticket
      await page.getByTestId(`printer-${kioskDevice.id}`).click();
      await page.locator('[data-printer-kind="tcp"]').check();
      await page.getByTestId('printer-host').fill(printer.host);
      await page.getByTestId('printer-port').fill(String(printer.port));
      await page.getByTestId('printer-width').selectOption('58');
      await page.getByTestId('save-printer').click();
      await page.getByTestId(`saved-printer-${kioskDevice.id}`).waitFor();
      expect(await manager.kioskPrinter(kioskDevice.id)).toEqual({ kind: 'tcp', host: printer.host, port: printer.port, widthDots: 384 });
      await page.getByTestId('test-printer').click();
      await expect.poll(() => page.getByTestId('test-result').innerText(), { timeout: 20_000 }).toContain('Đã gửi vé thử tới máy in');
      await printer.waitForJobs(1);
      expect(printer.received().length).toBeGreaterThan(1000); // a raster ticket, not an empty job
      await shot(page, 'manager-devices-printer-1920x1080');

      // the same screen in English
      await page.getByRole('button', { name: 'English' }).click();
      await expect.poll(() => page.getByTestId('printer-panel').innerText()).toContain('Ticket printer');
      await shot(page, 'manager-devices-printer-en-1920x1080');

      // the site agent on the kiosk PC (USB or serial printer), paired as the kiosk itself
      await page.getByRole('button', { name: 'Tiếng Việt' }).click();
      await page.locator('[data-printer-kind="agent"]').check();
      await page.getByTestId('save-printer').click();
      await expect.poll(() => manager.kioskPrinter(kioskDevice.id)).toEqual({ kind: 'agent' });

      // none
      await page.locator('[data-printer-kind="none"]').check();
      await page.getByTestId('save-printer').click();
      await expect.poll(() => manager.kioskPrinter(kioskDevice.id)).toBeNull();
      // the voice setting next to the phrase, on the site tab
      await page.getByTestId('config-tab-site').click();
      await page.getByTestId('prefer-system-voice').scrollIntoViewIfNeeded();
      expect(await page.getByTestId('prefer-system-voice').isChecked()).toBe(false);
      await shot(page, 'manager-site-voice-1920x1080');
      for (const { errors } of [display, manage]) expect(errors).toEqual([]);
    } finally {
      await printer.close();
    }
  });

  it('a display follows a zone set while it runs, and the system-voice setting', async () => {
    const display = await open(`/display/?pair=${(await stack.device('display')).pairingCode}`, { width: 1920, height: 1080 },
      (p) => p.getByTestId('board').waitFor({ timeout: 10_000 }));
    const deviceId = (await manager.devices(stack.siteId)).filter((d) => d.kind === 'display').at(-1)!.id;
    const countersShown = () => display.page.locator('[data-counter]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-counter'))));
    expect((await countersShown()).length).toBeGreaterThan(2);

    const changedAt = Date.now();
    expect(await manager.setDisplayZone(deviceId, { counterIds: [stack.counters[1]!, stack.counters[2]!] })).toEqual({ counterIds: [stack.counters[1], stack.counters[2]] });
    await expect.poll(countersShown, { timeout: 2000, interval: 50 }).toEqual([1, 2]);
    expect(Date.now() - changedAt).toBeLessThan(1000);
    expect(await sameDocument(display.page)).toBe(true);
    await shot(display.page, 'display-zone-1920x1080');

    // the whole site again
    await manager.setDisplayZone(deviceId, null);
    await expect.poll(async () => (await countersShown()).length, { timeout: 2000, interval: 50 }).toBeGreaterThan(2);

    // the voice preference reaches the running display (Chromium here has no vi-VN voice, so
    // the display keeps its clips: docs/display-voice.md)
    const site = await manager.site(stack.siteId);
    const board = display.page.getByTestId('board');
    expect(await board.getAttribute('data-prefer-system-voice')).toBe('false');
    await manager.setAnnouncement(stack.siteId, { announcement: site.announcement!, preferSystemVoice: true });
    await expect.poll(() => board.getAttribute('data-prefer-system-voice'), { timeout: 2000, interval: 50 }).toBe('true');
    console.log(`with the system voice preferred this Chromium speaks with: ${await board.getAttribute('data-voice')}`);
    await manager.setAnnouncement(stack.siteId, { announcement: site.announcement!, preferSystemVoice: false });
    await expect.poll(() => board.getAttribute('data-prefer-system-voice'), { timeout: 2000, interval: 50 }).toBe('false');
    expect(await board.getAttribute('data-voice')).toBe('clips');
    expect(await sameDocument(display.page)).toBe(true);
    expect(display.errors).toEqual([]);
  });
});
