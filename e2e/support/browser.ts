import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// The flags this machine needs (no sandbox as root, no background network, no GPU).
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--no-first-run', '--disable-sync', '--disable-quic', '--autoplay-policy=no-user-gesture-required',
];

export interface TestBrowser {
  browser: Browser;
  context(options?: { width?: number; height?: number; locale?: string }): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** `args`: more flags, e.g. `--lang=en-US` for a browser whose own language is English */
export async function launchBrowser({ args = [] }: { args?: string[] } = {}): Promise<TestBrowser> {
  // playwright gives every launch its own throwaway profile
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...args] });
  return {
    browser,
    context: ({ width = 1280, height = 800, locale = 'vi-VN' } = {}) => browser.newContext({ viewport: { width, height }, locale }),
    async close() {
      await browser.close();
    },
  };
}
