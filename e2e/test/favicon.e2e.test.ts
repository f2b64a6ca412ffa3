import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../support/browser.ts';
import { startStack, type Stack } from '../support/stack.ts';

// Every screen and the phone page have a tab icon. Found in use: /favicon.ico answered 404 on
// every screen, a console error in Chromium ("Failed to load resource: ... 404").

const SHOTS = process.env.QMS_SCREENSHOTS ?? path.join(tmpdir(), 'qms-e2e-favicon');
mkdirSync(SHOTS, { recursive: true });

let stack: Stack;
let browser: TestBrowser;
let phonePath: string;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  const kiosk = await stack.device('kiosk');
  const res = await fetch(`${stack.baseUrl}/api/v1/sites/${stack.siteId}/tickets`, {
    method: 'POST', headers: { authorization: `Bearer ${kiosk.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ serviceId: stack.services.HT }),
  });
  phonePath = `/t/${((await res.json()) as { ticket: { publicId: string } }).ticket.publicId}`;
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe('the tab icon', () => {
  it('is served as /favicon.ico (an ICO) and /favicon.svg (an SVG)', async () => {
    const ico = await fetch(`${stack.baseUrl}/favicon.ico`);
    expect(ico.status).toBe(200);
    expect(ico.headers.get('content-type')).toBe('image/x-icon');
    const bytes = Buffer.from(await ico.arrayBuffer());
    // ICONDIR: reserved 0, type 1 (icon), one image of 32×32 at 32 bits
    expect([bytes.readUInt16LE(0), bytes.readUInt16LE(2), bytes.readUInt16LE(4), bytes[6], bytes[7], bytes.readUInt16LE(12)]).toEqual([0, 1, 1, 32, 32, 32]);
    expect(bytes.length).toBe(bytes.readUInt32LE(18) + bytes.readUInt32LE(14));
    const svg = await fetch(`${stack.baseUrl}/favicon.svg`);
    expect(svg.status).toBe(200);
    expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(await svg.text()).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  });

  it.each(['/kiosk/', '/display/', '/counter/', '/rating/', '/manage/', 'phone'])('%s links it, loads it, and logs no 404', async (screen) => {
    const context = await browser.context();
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    const failed: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${new URL(r.url()).pathname}`); });
    await page.goto(`${stack.baseUrl}${screen === 'phone' ? phonePath : screen}`);
    await expect.poll(() => page.locator('body').innerText()).not.toBe('');
    const href = await page.evaluate(() => (document.querySelector('link[rel~="icon"]') as HTMLLinkElement | null)?.href ?? null);
    expect(href).toBe(`${stack.baseUrl}/favicon.svg`);
    // the icon the page names, fetched by the page itself (under its own CSP) and drawn
    const drawn = await page.evaluate(async (url) => {
      const img = new Image();
      img.src = url;
      await img.decode();
      return [img.naturalWidth > 0, (await fetch(url)).status];
    }, href!);
    expect(drawn).toEqual([true, 200]);
    await page.waitForTimeout(300); // a favicon request of Chromium's own comes after the load
    expect(failed).toEqual([]);
    expect(consoleErrors.filter((e) => /404|favicon/i.test(e))).toEqual([]);
    await context.close();
  });

  it('looks like a white Q on the centre\'s blue, in both forms', async () => {
    const context = await browser.context({ width: 360, height: 200 });
    const page = await context.newPage();
    // a page of this server (its CSP allows images of 'self'): the 404 page of an unknown address
    await page.goto(`${stack.baseUrl}/favicon-preview`);
    await page.evaluate(() => {
      document.body.innerHTML = '';
      document.body.style.cssText = 'margin:0;padding:20px;background:#eee;display:flex;gap:20px';
      for (const src of ['/favicon.ico', '/favicon.svg']) {
        const img = document.createElement('img');
        img.src = src;
        img.style.cssText = 'width:128px;height:128px;image-rendering:pixelated';
        document.body.append(img);
      }
    });
    await expect.poll(() => page.evaluate(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0))).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'favicon-ico-and-svg.png') });
    // the centre of the ring is blue, its rim white, the corner transparent: in the ICO's own pixels
    const pixels = await page.evaluate(() => {
      const canvas = document.createElement('canvas');
      canvas.width = 32;
      canvas.height = 32;
      const g = canvas.getContext('2d')!;
      g.drawImage(document.images[0]!, 0, 0, 32, 32);
      const at = (x: number, y: number) => [...g.getImageData(x, y, 1, 1).data];
      return { centre: at(16, 15), rim: at(16, 7), corner: at(0, 0) };
    });
    expect(pixels.centre).toEqual([0x0b, 0x3d, 0x91, 255]);
    expect(pixels.rim).toEqual([255, 255, 255, 255]);
    expect(pixels.corner[3]).toBe(0);
    await context.close();
  });
});
