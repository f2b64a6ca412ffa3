// Builds the screens' single-page apps with Vite (npm start and npm test run it first).
// An app whose sources have not changed since its last build is skipped, so a second
// start is quick. Usage: node scripts/build-ui.mjs [app ...]
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
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

/** A fingerprint of everything an app is built from: its package, the protocol and ui-shared. */
function fingerprint(app) {
  const hash = createHash('sha256');
  for (const dir of [path.join(root, app.dir), path.join(root, 'protocol/src'), path.join(root, 'ui-shared/src')]) {
    for (const file of [...files(dir)].sort()) {
      const s = statSync(file);
      hash.update(`${path.relative(root, file)}:${s.size}:${s.mtimeMs}\n`);
    }
  }
  return hash.digest('hex');
}

const wanted = process.argv.slice(2);
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
