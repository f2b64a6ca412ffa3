// Plays real announcements in Debian's Chromium against the committed clips, through the real
// HTMLAudioElement player, and prints what was heard and how long it took:
//   1. with --autoplay-policy=no-user-gesture-required (an unattended display): three calls,
//      one of them a recall, arriving together;
//   2. with Chromium's default policy (document-user-activation-required): the announcer
//      reports needsTap, a click resumes it.
// Both with the Web Audio player (the default) and the HTMLAudioElement one. Calls are made by
// the page itself: Playwright's page.evaluate() counts as a user gesture and would unlock audio.
//
//   npx tsx display-ui/scripts/check-voice-in-chromium.ts     (CHROMIUM_PATH, default /usr/bin/chromium)
//
// A manual check of the device path; the app's end-to-end tests live in e2e/.

import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { createServer, type Plugin } from 'vite';
import type { PlayedAnnouncement } from '../src/voice/announcer.ts';
import { buildAnnouncement } from '../src/voice/phrase.ts';

const root = path.resolve(import.meta.dirname, '..');
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const BASE_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];

const PAGE = `<!doctype html><html lang="vi"><body style="height:100vh">
<p id="state">idle</p><p id="played">0</p>
<script type="module">
  import { createDisplayVoice } from '/display/src/voice/display-voice.ts';
  import { createAudioElementPlayer } from '/display/src/voice/browser-audio.ts';
  const element = new URLSearchParams(location.search).get('player') === 'element' ? createAudioElementPlayer() : undefined;
  const voice = createDisplayVoice(element ? { play: element.play, preload: element.preload } : {});
  voice.announcer.onStateChange((s) => (document.getElementById('state').textContent = s));
  voice.announcer.onPlayed(() => (document.getElementById('played').textContent = String(window.__qmsVoiceLog.length)));
  window.voice = voice;
  // Announce from the page itself: page.evaluate() runs as a user gesture, which would unlock audio.
  for (const call of (new URLSearchParams(location.search).get('announce') ?? '').split(',').filter(Boolean)) {
    const [code, counter] = call.split('-');
    voice.announce({ code, counter: Number(counter) });
  }
</script></body></html>`;

const checkPage: Plugin = {
  name: 'voice-check-page',
  configureServer(server) {
    server.middlewares.use('/display/voice-check', (_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(PAGE);
    });
  },
};

const server = await createServer({
  root,
  base: '/display/',
  configFile: false,
  logLevel: 'warn',
  plugins: [checkPage],
  server: { port: 0, host: '127.0.0.1' },
});
await server.listen();
const address = server.httpServer?.address();
if (!address || typeof address === 'string') throw new Error('vite did not listen');
const url = `http://127.0.0.1:${address.port}/display/voice-check`;

const failures: string[] = [];
const expectClips = (label: string, played: PlayedAnnouncement | undefined, code: string, counter: number) => {
  const expected = buildAnnouncement({ code, counter }).clips;
  if (JSON.stringify(played?.clips) !== JSON.stringify(expected) || played?.failed.length) {
    failures.push(`${label}: heard ${JSON.stringify(played?.clips)} failed ${JSON.stringify(played?.failed)}`);
  }
};
const report = (played: PlayedAnnouncement[]) => {
  for (const p of played) {
    console.log(`  #${p.seq} ${((p.endedAt - p.startedAt) / 1000).toFixed(2)} s, ${p.clips.length} clips, ${p.failed.length} failed: ${p.text.vi} / ${p.text.en}`);
  }
};
const voiceLog = (page: Page) => page.evaluate(() => (window as unknown as { __qmsVoiceLog?: PlayedAnnouncement[] }).__qmsVoiceLog ?? []);

async function withPage(args: string[], query: string, run: (page: Page) => Promise<void>) {
  const browser = await chromium.launch({ executablePath, args: [...BASE_ARGS, ...args] });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.log(`  [page] ${e.message}`));
    page.on('response', (r) => r.status() >= 400 && !r.url().endsWith('/favicon.ico') && console.log(`  [page] ${r.status()} ${r.url()}`));
    await page.goto(`${url}?${query}`);
    await run(page);
  } finally {
    await browser.close();
  }
}

try {
  for (const player of ['webaudio', 'element'] as const) {
    console.log(`unattended display, ${player} player (--autoplay-policy=no-user-gesture-required):`);
    const started = Date.now();
    // Three calls arriving together, the last a recall of the first.
    await withPage(['--autoplay-policy=no-user-gesture-required'], `player=${player}&announce=A023-5,1005-24,A023-5`, async (page) => {
      await page.locator('#played', { hasText: '3' }).waitFor({ timeout: 90_000 });
      const played = await voiceLog(page);
      report(played);
      console.log(`  all three in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      expectClips('A023', played[0], 'A023', 5);
      expectClips('1005', played[1], '1005', 24);
      expectClips('A023 recall', played[2], 'A023', 5);
      for (let i = 1; i < played.length; i++) {
        if (played[i]!.startedAt < played[i - 1]!.endedAt) failures.push(`announcement ${i + 1} overlapped the one before`);
      }
    });
  }

  for (const player of ['webaudio', 'element'] as const) {
    // Chromium's default policy, spelt out.
    console.log(`attended browser, ${player} player (--autoplay-policy=document-user-activation-required):`);
    await withPage(['--autoplay-policy=document-user-activation-required'], `player=${player}&announce=B101-12`, async (page) => {
      // Wait without touching the page: Playwright's evaluations and locators count as user
      // activation in Chromium, and one landing while the player is still asking the
      // AudioContext to start (300 ms) would unlock audio by itself.
      await page.waitForTimeout(1500);
      const state = await page.textContent('#state');
      if (state !== 'needsTap') failures.push(`${player}: expected needsTap before the tap, got ${state}`);
      console.log('  blocked: state needsTap; clicking the page');
      await page.mouse.click(200, 200);
      await page.locator('#played', { hasText: '1' }).waitFor({ timeout: 30_000 });
      const played = await voiceLog(page);
      report(played);
      expectClips(`B101 after tap (${player})`, played[0], 'B101', 12);
    });
  }
} finally {
  await server.close();
}

if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log('ok');
