// npm start, npm run agent, npm run db:migrate...: runs one of ENTRIES (scripts/entries.mjs).
//   development: the TypeScript source under tsx; `server` builds the screens first when their
//                sources changed (scripts/build-ui.mjs)
//   production:  the build in dist/ (npm run build), with nothing of the dev tools, when
//                NODE_ENV=production or when they are not installed (npm prune --omit=dev)
// Usage: node scripts/run.mjs <entry> [its arguments...]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ENTRIES } from './entries.mjs';

const root = path.resolve(import.meta.dirname, '..');
const name = process.argv[2];
if (!name || !(name in ENTRIES)) {
  console.error(`usage: node scripts/run.mjs <${Object.keys(ENTRIES).join('|')}> [arguments]`);
  process.exit(2);
}
// the entry reads its own arguments from process.argv.slice(2)
process.argv.splice(2, 1);

const devToolsInstalled = (() => {
  try {
    createRequire(path.join(root, 'package.json')).resolve('tsx/esm/api');
    return true;
  } catch {
    return false;
  }
})();

if (process.env.NODE_ENV === 'production' || !devToolsInstalled) {
  const built = path.join(root, 'dist', `${name}.mjs`);
  if (!existsSync(built)) {
    console.error(`${path.relative(root, built)} is missing: run \`npm run build\` first (production runs the build, not the sources).`);
    process.exit(1);
  }
  await import(pathToFileURL(built).href);
} else {
  if (name === 'server') execFileSync(process.execPath, [path.join(root, 'scripts/build-ui.mjs')], { stdio: 'inherit' });
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(path.join(root, ENTRIES[name])).href);
}
