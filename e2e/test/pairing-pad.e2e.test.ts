import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../support/browser.ts';
import { startStack, type Stack } from '../support/stack.ts';

// The pairing pad of the three unattended screens (kiosk, call display, rating tablet) in
// Chromium, portrait and landscape: both languages, Vietnamese first, six code boxes and twelve
// square keys big enough for a finger, all on screen; then each screen pairs with the digits
// tapped on its pad. The rating tablet's pad once collapsed to thin bars in portrait.

const SHOTS = process.env.QMS_SCREENSHOTS ?? path.join(tmpdir(), 'qms-e2e-pairing-pad');
mkdirSync(SHOTS, { recursive: true });

const SCREENS = [
  { name: 'kiosk', url: '/kiosk/', kind: 'kiosk', title: ['Ghép nối ki-ốt', 'Pair this kiosk'], paired: '[data-service="HT"]' },
  { name: 'display', url: '/display/', kind: 'display', title: ['Ghép nối màn hình gọi số', 'Pair this call display'], paired: '[data-testid="board"]' },
  { name: 'rating', url: '/rating/', kind: 'rating', title: ['Ghép nối máy đánh giá', 'Pair this rating tablet'], paired: '[data-testid="idle"]' },
] as const;
const SIZES = [
  { width: 1080, height: 1920 }, { width: 800, height: 1280 }, // portrait
  { width: 1920, height: 1080 }, { width: 1280, height: 800 }, // landscape
];
/** a finger's target: at least 64x64 CSS px (about 17 mm at 96 dpi) */
const MIN_KEY = 64;
/** a box of the code shows one digit: a readable size, at the least */
const MIN_BOX = { width: 36, height: 48 };

let stack: Stack;
let browser: TestBrowser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

interface Box { name: string; width: number; height: number; inside: boolean }

/** every visible button and code box of the page, with its size and whether it is wholly on screen */
async function measure(page: Page): Promise<{ buttons: Box[]; boxes: Box[]; text: string }> {
  return page.evaluate(() => {
    const box = (el: Element, name: string) => {
      const r = el.getBoundingClientRect();
      return { name, width: Math.round(r.width), height: Math.round(r.height), inside: r.left >= 0 && r.top >= 0 && r.right <= innerWidth + 0.5 && r.bottom <= innerHeight + 0.5 };
    };
    const visible = (el: Element) => el.checkVisibility();
    return {
      buttons: [...document.querySelectorAll('button')].filter(visible).map((b) => box(b, b.getAttribute('aria-label') ?? b.textContent!.trim())),
      boxes: [...document.querySelectorAll('[data-testid="pair-code"] > *')].filter(visible).map((s) => box(s, 'code')),
      text: document.body.innerText,
    };
  });
}

describe('the pairing pad of the kiosk, the call display and the rating tablet', () => {
  for (const screen of SCREENS) {
    it(`${screen.name}: one pad that fits portrait and landscape, then pairs from its keys`, async () => {
      for (const [i, size] of SIZES.entries()) {
        const context = await browser.context(size);
        const page = await context.newPage();
        page.setDefaultTimeout(8000);
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(`${stack.baseUrl}${screen.url}`);
        await page.getByRole('button', { name: '1', exact: true }).waitFor();
        await page.screenshot({ path: path.join(SHOTS, `${screen.name}-${size.width}x${size.height}.png`) });
        const where = `${screen.name} ${size.width}x${size.height}`;
        const { buttons, boxes, text } = await measure(page);

        expect(boxes, `${where}: six code boxes`).toHaveLength(6);
        for (const b of boxes) {
          // a box a digit fits in, not a bar
          expect(b.width >= MIN_BOX.width && b.height >= MIN_BOX.height, `${where}: a code box is ${b.width}x${b.height}`).toBe(true);
          expect(b.inside, `${where}: a code box is off screen`).toBe(true);
        }

        const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'].map((d) => buttons.find((b) => b.name === d));
        const erase = buttons.find((b) => /Xóa|Xoá/.test(b.name));
        const ok = buttons.find((b) => /Ghép nối/.test(b.name));
        expect(keys.every(Boolean) && erase && ok, `${where}: ten digits, erase and OK`).toBeTruthy();
        for (const key of [...keys, erase, ok] as Box[]) {
          expect(key.width >= MIN_KEY && key.height >= MIN_KEY, `${where}: "${key.name}" is ${key.width}x${key.height}`).toBe(true);
          // a key, not a bar: no side more than a third longer than the other
          expect(Math.max(key.width, key.height) / Math.min(key.width, key.height), `${where}: "${key.name}" is ${key.width}x${key.height}`).toBeLessThanOrEqual(4 / 3);
          expect(key.inside, `${where}: "${key.name}" off screen`).toBe(true);
        }
        // every other button (none but the pad's) fits too
        expect(buttons.filter((b) => !b.inside).map((b) => b.name), `${where}: buttons off screen`).toEqual([]);

        // Vietnamese first, English with it, whatever the browser's language
        const [vi, en] = screen.title.map((t) => text.indexOf(t));
        expect(vi, `${where}: Vietnamese title`).toBeGreaterThanOrEqual(0);
        expect(en, `${where}: English title after it`).toBeGreaterThan(vi!);

        // the last size: the pad pairs the screen, tapped key by key
        if (i === SIZES.length - 1) {
          const device = await stack.device(screen.kind, screen.kind === 'rating' ? 1 : undefined);
          for (const digit of device.pairingCode) await page.getByRole('button', { name: digit, exact: true }).click();
          await expect.poll(() => page.locator('[data-testid="pair-code"]').innerText().then((t) => t.replace(/\s/g, ''))).toBe(device.pairingCode);
          await page.screenshot({ path: path.join(SHOTS, `${screen.name}-${size.width}x${size.height}-typed.png`) });
          await page.getByRole('button', { name: /Ghép nối/ }).click();
          await page.locator(screen.paired).waitFor({ timeout: 10_000 });
          // the code was spent: the screen holds the device's token now
          const row = await stack.t.db.selectFrom('device').select('pairingCodeHash').where('id', '=', device.id).executeTakeFirstOrThrow();
          expect(row.pairingCodeHash).toBeNull();
          expect(await page.evaluate((key) => JSON.parse(localStorage.getItem(key) ?? '{}').deviceId, `qms.${screen.name}.device`)).toBe(device.id);
        }
        expect(errors).toEqual([]);
        await context.close();
      }
    }, 90_000);
  }
});
