import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../support/browser.ts';
import { startStack, type Stack } from '../support/stack.ts';

let stack: Stack;
let browser: TestBrowser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe('every screen loads in Chromium', () => {
  it.each(['kiosk', 'display', 'counter', 'rating', 'manage'])('/%s/ renders Vietnamese first, without page errors', async (screen) => {
    const context = await browser.context();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${stack.baseUrl}/${screen}/`);
    await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe('vi');
    await expect.poll(() => page.locator('body').innerText()).not.toBe('');
    expect(errors).toEqual([]);
    await context.close();
  });
});
