import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createCanvas } from '@napi-rs/canvas';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { screens } from '../support/screens.ts';
import { STAFF_PASSWORD, type Stack } from '../support/stack.ts';
import { signIn } from '../support/pages.ts';

// An official's photo in Chromium: the rating tablet of counter 1 and canbo1's counter terminal
// show initials; a manager uploads canbo1's photo in the console (a file input, as a person
// would pick a file); both screens show it without a reload, and the tablet shows it again when
// it asks the citizen to rate canbo1.

const SHOTS = process.env.QMS_SCREENSHOTS ?? path.join(tmpdir(), 'qms-e2e-photo');
mkdirSync(SHOTS, { recursive: true });

const view = screens();
let stack: Stack;
beforeAll(() => {
  stack = view.stack;
});
const open = (url: string, size: { width: number; height: number }) => view.open(url, size, { failedRequests: true });

async function api(method: 'POST', url: string, token: string, body: object = {}) {
  const res = await fetch(`${stack.baseUrl}/api/v1${url}`, {
    method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** Width of the <img> as the browser decoded it (0 while broken or not loaded). */
const loadedWidth = (img: Locator) => img.evaluate((el) => (el as HTMLImageElement).complete ? (el as HTMLImageElement).naturalWidth : 0).catch(() => 0);
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });

/** A portrait as a phone would take it: 900 x 1200 JPEG, a face on a coloured background. */
async function portrait(): Promise<Buffer> {
  const canvas = createCanvas(900, 1200);
  const g = canvas.getContext('2d');
  const sky = g.createLinearGradient(0, 0, 0, 1200);
  sky.addColorStop(0, '#bfdbfe');
  sky.addColorStop(1, '#1e3a8a');
  g.fillStyle = sky;
  g.fillRect(0, 0, 900, 1200);
  g.fillStyle = '#1e293b'; // shoulders
  g.beginPath();
  g.ellipse(450, 1200, 380, 330, 0, Math.PI, 0);
  g.fill();
  g.fillStyle = '#f1c27d'; // face
  g.beginPath();
  g.ellipse(450, 480, 200, 250, 0, 0, Math.PI * 2);
  g.fill();
  g.fillStyle = '#111827'; // hair and eyes
  g.beginPath();
  g.ellipse(450, 330, 215, 120, 0, Math.PI, 0);
  g.fill();
  for (const x of [380, 520]) {
    g.beginPath();
    g.arc(x, 470, 18, 0, Math.PI * 2);
    g.fill();
  }
  g.strokeStyle = '#9f1239';
  g.lineWidth = 10;
  g.beginPath();
  g.arc(450, 560, 70, 0.2 * Math.PI, 0.8 * Math.PI);
  g.stroke();
  return canvas.encode('jpeg', 90);
}

describe('staff photos', () => {
  it('a photo uploaded in the console shows on the rating tablet and the counter terminal, live, and when the tablet asks', async () => {
    const canbo1 = (await api('POST', '/auth/login', '', { username: 'canbo1', password: STAFF_PASSWORD })).body.token as string;
    expect((await api('POST', `/counters/${stack.counters[1]}/open`, canbo1)).status).toBe(200);

    // --- before: the tablet and the terminal show canbo1's initials
    const tablet = await open(`/rating/?pair=${(await stack.device('rating', 1)).pairingCode}`, { width: 1280, height: 800 });
    await expect.poll(() => tablet.page.getByTestId('staff-name').innerText(), { timeout: 10_000 }).toBe('Nguyễn Văn 1');
    await tablet.page.clock.install(); // its thanks run on a clock the test moves on (below)
    await tablet.page.reload();
    await expect.poll(() => tablet.page.getByTestId('staff-name').innerText(), { timeout: 10_000 }).toBe('Nguyễn Văn 1');
    const terminal = await open('/counter/', { width: 1366, height: 768 });
    await signIn(terminal.page, 'canbo1');
    await expect.poll(() => terminal.page.getByTestId('counter-status').innerText(), { timeout: 10_000 }).toBe('Đang mở');
    expect(await tablet.page.getByTestId('idle').getByTestId('avatar').innerText()).toBe('N1');
    expect(await terminal.page.locator('header').getByTestId('staff-photo').count()).toBe(0);

    // --- a manager uploads canbo1's photo in the staff list
    const console = await open('/manage/#/config', { width: 1440, height: 900 });
    await signIn(console.page, 'quanly');
    await console.page.getByTestId('config-tab-staff').click();
    const row = console.page.getByTestId('staff-table').locator('tr', { hasText: 'canbo1' });
    await row.getByTestId('photo-input').setInputFiles({ name: 'canbo1.jpg', mimeType: 'image/jpeg', buffer: await portrait() });
    const consolePhoto = row.getByTestId('staff-photo');
    await expect.poll(() => loadedWidth(consolePhoto), { timeout: 10_000 }).toBeGreaterThan(0);
    // the server keeps its own 512 px re-encoding, not the 900 x 1200 upload
    expect(await loadedWidth(consolePhoto)).toBe(384);
    const stored = await stack.t.db.selectFrom('staffPhoto').select(['width', 'height', 'contentType']).executeTakeFirstOrThrow();
    expect(stored).toEqual({ width: 384, height: 512, contentType: 'image/jpeg' });
    await expect.poll(() => row.getByTestId('photo-remove').isVisible()).toBe(true);
    await shot(console.page, 'console-staff-photo-1440x900');

    // --- the tablet and the terminal show it without a reload
    const tabletPhoto = tablet.page.getByTestId('idle').getByTestId('staff-photo');
    await expect.poll(() => loadedWidth(tabletPhoto), { timeout: 5000 }).toBe(384);
    await shot(tablet.page, 'rating-idle-photo-1280x800');
    const terminalPhoto = terminal.page.locator('header').getByTestId('staff-photo');
    await expect.poll(() => loadedWidth(terminalPhoto), { timeout: 5000 }).toBe(384);
    await shot(terminal.page, 'counter-photo-1366x768');

    // --- the tablet asks about canbo1 with the photo
    const kiosk = await stack.device('kiosk');
    const { body: issued } = await api('POST', `/sites/${stack.siteId}/tickets`, kiosk.token, { serviceId: stack.services.HT });
    expect((await api('POST', `/counters/${stack.counters[1]}/call-next`, canbo1)).status).toBe(200);
    expect((await api('POST', `/tickets/${issued.ticket.id}/finish`, canbo1)).status).toBe(200);
    const ask = tablet.page.getByTestId('ask');
    await ask.waitFor();
    await expect.poll(() => loadedWidth(ask.getByTestId('staff-photo')), { timeout: 5000 }).toBe(384);
    expect(await ask.innerText()).toContain('Nguyễn Văn 1');
    await shot(tablet.page, 'rating-ask-photo-1280x800');

    // portrait tablets too
    await tablet.page.setViewportSize({ width: 800, height: 1280 });
    await shot(tablet.page, 'rating-ask-photo-800x1280');
    await ask.locator('[data-score="3"]').click();
    await tablet.page.getByTestId('thanks').waitFor();
    await tablet.page.clock.fastForward(5_500);
    await tablet.page.getByTestId('idle').waitFor({ timeout: 3000 });

    // --- removed in the console: the initials come back everywhere
    console.page.once('dialog', (d) => void d.accept());
    await row.getByTestId('photo-remove').click();
    await expect.poll(() => row.getByTestId('staff-photo').count()).toBe(0);
    await expect.poll(() => tablet.page.getByTestId('idle').getByTestId('staff-photo').count(), { timeout: 5000 }).toBe(0);
    await expect.poll(() => terminal.page.locator('header').getByTestId('staff-photo').count(), { timeout: 5000 }).toBe(0);
    expect(await tablet.page.getByTestId('idle').getByTestId('avatar').innerText()).toBe('N1');

    for (const { errors } of [tablet, terminal, console]) expect(errors).toEqual([]);
  }, 90_000);
});
