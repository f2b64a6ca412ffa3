import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchBrowser, type TestBrowser } from './browser.ts';
import { startStack, type Stack, type StackOptions } from './stack.ts';

export interface Screens {
  /** the server of this test file (started before its tests) */
  readonly stack: Stack;
  readonly browser: TestBrowser;
  /**
   * A screen of the stack at `url`, in a browser context of its own and of this size; `errors`
   * collects its uncaught exceptions, and its failed requests when `failedRequests` is set.
   */
  open(url: string, size?: { width: number; height: number }, options?: { failedRequests?: boolean }): Promise<{ page: Page; errors: string[] }>;
}

/** A real server (with these options: its clock…) and a Chromium for one test file: started before its tests, closed after them. */
export function screens(options: StackOptions = {}): Screens {
  let stack: Stack | undefined;
  let browser: TestBrowser | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    [stack, browser] = await Promise.all([startStack(options), launchBrowser()]);
  });
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await stack?.close();
  });
  return {
    get stack() {
      return stack!;
    },
    get browser() {
      return browser!;
    },
    async open(url, size = { width: 1440, height: 900 }, options = {}) {
      const context = await browser!.context(size);
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(8000);
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      // every failed request, by address (/favicon.ico aside: issue 15 item 9, fixed on its own)
      if (options.failedRequests) page.on('response', (r) => r.status() >= 400 && !r.url().endsWith('/favicon.ico') && errors.push(`${r.status()} ${r.url()}`));
      await page.goto(`${stack!.baseUrl}${url}`);
      return { page, errors };
    },
  };
}
