// Builds the screens' single-page apps with Vite (npm start and npm test run it first).
// An app whose sources have not changed since its last build is skipped, so a second
// start is quick. Usage: node scripts/build-ui.mjs [app ...]
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = path.resolve(import.meta.dirname, '..');

/** name: URL path it is served under; dir: package; html: folder of its index.html */
export const APPS = [
  { name: 'kiosk', dir: 'kiosk-ui', html: '.' },
  { name: 'display', dir: 'display-ui', html: '.' },
  { name: 'counter', dir: 'counter-ui', html: '.' },
  { name: 'rating', dir: 'counter-ui', html: 'rating' },
  { name: 'manage', dir: 'manager-ui', html: '.' },
];

function* files(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else yield full;
  }
}

/**
 * A fingerprint of everything an app is built from: its package, the protocol, ui-shared, and
 * the lockfile, whose content changes when `npm install` brings another svelte or vite.
 */
export function fingerprint(app, at = root) {
  const hash = createHash('sha256');
  for (const dir of [path.join(at, app.dir), path.join(at, 'protocol/src'), path.join(at, 'ui-shared/src')]) {
    for (const file of [...files(dir)].sort()) {
      const s = statSync(file);
      hash.update(`${path.relative(at, file)}:${s.size}:${s.mtimeMs}\n`);
    }
  }
  const lockfile = path.join(at, 'package-lock.json');
  if (existsSync(lockfile)) hash.update(`package-lock.json:${createHash('sha256').update(readFileSync(lockfile)).digest('hex')}\n`);
  return hash.digest('hex');
}

// run as a script (not when a test imports fingerprint)
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildApps(process.argv.slice(2));

async function buildApps(wanted) {
  for (const app of APPS.filter((a) => !wanted.length || wanted.includes(a.name))) {
    const outDir = path.join(root, app.dir, 'dist', app.name);
    const stamp = path.join(outDir, '.fingerprint');
    const print = fingerprint(app);
    if (existsSync(stamp) && readFileSync(stamp, 'utf8') === print) {
      console.log(`ui ${app.name}: up to date`);
      continue;
    }
    const started = Date.now();
    await build({
      root: path.join(root, app.dir, app.html),
      base: `/${app.name}/`,
      configFile: false,
      logLevel: 'warn',
      plugins: [svelte()],
      resolve: { alias: { '/src': path.join(root, app.dir, 'src') } },
      build: { outDir, emptyOutDir: true, target: 'es2020', chunkSizeWarningLimit: 1024 },
    });
    writeFileSync(stamp, print);
    console.log(`ui ${app.name}: built in ${Date.now() - started} ms`);
  }
}
