import { createRequire } from 'node:module';
import path from 'node:path';

// The public pages' script (client/public-page.ts, type-checked with the server) as the one small
// file the pages carry, built as the phone page's is (phone/phone-script.ts): the production
// build (scripts/build.mjs) bundles it once and defines QMS_PUBLIC_SCRIPT; from the sources it is
// bundled with esbuild, a dev tool, on first use.

declare const QMS_PUBLIC_SCRIPT: string | undefined;

const PUBLIC_PAGE_ENTRY = path.join(import.meta.dirname, 'client', 'public-page.ts');

/** esbuild options of the script (scripts/build.mjs bundles it the same way). */
const PUBLIC_SCRIPT_BUILD = { bundle: true, format: 'iife', minify: true, target: 'es2019', legalComments: 'none', write: false } as const;

let built: string | undefined;

export function publicScript(): string {
  if (typeof QMS_PUBLIC_SCRIPT !== 'undefined') return QMS_PUBLIC_SCRIPT;
  if (built === undefined) {
    const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
    const result = esbuild.buildSync({ ...PUBLIC_SCRIPT_BUILD, entryPoints: [PUBLIC_PAGE_ENTRY] });
    built = result.outputFiles[0]!.text;
  }
  return built;
}
