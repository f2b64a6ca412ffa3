// npm run build: everything production runs, so that after `npm prune --omit=dev` nothing of
// the dev tools (tsx, vite, svelte) is needed at run time:
//   the screens        kiosk-ui/dist/... (scripts/build-ui.mjs, as npm start does in development)
//   dist/*.mjs         the server and its command-line tools, one ES module each, and the server's
//                      report thread; our workspace packages are bundled in, npm packages load
//                      from node_modules
//   dist/site-agent/   the site agent for kiosk PCs as one file, fonts built in; only its native
//                      addons (canvas, serial port, HID) come from npm, listed in its package.json
// scripts/run.mjs picks these in production (npm start, npm run agent, ...).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ENTRIES } from './entries.mjs';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist');
const started = Date.now();

execFileSync(process.execPath, [path.join(root, 'scripts/build-ui.mjs')], { stdio: 'inherit' });

// ESM output: CommonJS packages bundled into it still call require()
const banner = { js: "import { createRequire as qmsCreateRequire } from 'node:module'; const require = qmsCreateRequire(import.meta.url);" };
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node24', sourcemap: 'linked', logLevel: 'warning', banner, legalComments: 'none' };

/** npm packages stay outside the bundle (they are in node_modules after the prune); ours go in. */
const npmPackagesExternal = (keep = () => false) => ({
  name: 'npm-packages-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@qms/') || keep(args.path) || args.path.startsWith('node:') ? undefined : { path: args.path, external: true }));
  },
});

// the phone page's script, bundled for browsers once, built into the server (server/src/phone/phone-script.ts)
const phone = await build({
  entryPoints: [path.join(root, 'server/src/phone/client/phone-page.ts')],
  bundle: true, format: 'iife', minify: true, target: 'es2019', legalComments: 'none', write: false, logLevel: 'warning',
});
// the centre's public pages' script, the same way (server/src/public/public-script.ts)
const publicPages = await build({
  entryPoints: [path.join(root, 'server/src/public/client/public-page.ts')],
  bundle: true, format: 'iife', minify: true, target: 'es2019', legalComments: 'none', write: false, logLevel: 'warning',
});

rmSync(dist, { recursive: true, force: true });
await build({
  ...common,
  define: {
    QMS_PHONE_SCRIPT: JSON.stringify(phone.outputFiles[0].text), QMS_PUBLIC_SCRIPT: JSON.stringify(publicPages.outputFiles[0].text),
    // the server starts dist/report-thread.mjs as its report thread (server/src/reports/thread/report-worker.ts)
    QMS_BUILT: 'true',
  },
  entryPoints: {
    ...Object.fromEntries(Object.entries(ENTRIES).map(([name, entry]) => [name, path.join(root, entry)])),
    'report-thread': path.join(root, 'server/src/reports/thread/report-thread.ts'),
  },
  outdir: dist,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  plugins: [npmPackagesExternal()],
});

// The site agent in one file: every JavaScript package and the ticket fonts inside; native addons
// cannot be, so they stay imports, installed next to it from the package.json written here.
const NATIVE = ['@napi-rs/canvas', 'serialport', 'node-hid'];
const isNative = (id) => NATIVE.some((n) => id === n || id.startsWith(`${n}/`));
const fonts = Object.fromEntries(['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => [f, readFileSync(path.join(root, 'hardware/fonts', f)).toString('base64')]));
const agentDir = path.join(dist, 'site-agent');
await build({
  ...common,
  sourcemap: false,
  entryPoints: [path.join(root, ENTRIES.agent)],
  outfile: path.join(agentDir, 'qms-site-agent.mjs'),
  define: { QMS_BUNDLED_FONTS: JSON.stringify(fonts) },
  plugins: [{ name: 'native-external', setup(b) { b.onResolve({ filter: /^[^./]/ }, (args) => (isNative(args.path) ? { path: args.path, external: true } : undefined)); } }],
});
// the sources' `#!/usr/bin/env -S node --import tsx` would need the dev tools: plain node runs the build
for (const file of [...Object.keys(ENTRIES).map((name) => path.join(dist, `${name}.mjs`)), path.join(agentDir, 'qms-site-agent.mjs')]) {
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^#!.*\n/, '#!/usr/bin/env node\n'));
}
const hardwareRequire = createRequire(path.join(root, 'hardware/package.json'));
const versionOf = (name) => JSON.parse(readFileSync(hardwareRequire.resolve(`${name}/package.json`), 'utf8')).version;
const rootPackage = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
writeFileSync(path.join(agentDir, 'package.json'), `${JSON.stringify({
  name: 'qms-site-agent',
  version: rootPackage.version,
  private: true,
  type: 'module',
  description: 'The site agent of the queue-management system, for kiosk PCs (docs/site-agent.md)',
  engines: rootPackage.engines,
  bin: { 'qms-site-agent': './qms-site-agent.mjs' },
  dependencies: Object.fromEntries(NATIVE.map((n) => [n, versionOf(n)])),
}, null, 2)}\n`);

console.log(`build: dist/ (${[...Object.keys(ENTRIES), 'report-thread'].join(', ')}) and dist/site-agent/ in ${Date.now() - started} ms`);
