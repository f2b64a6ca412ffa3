import { createRequire } from 'node:module';
import path from 'node:path';

// The phone page's script (client/phone-page.ts, type-checked with the server) as the one small
// file the page carries. The production build (scripts/build.mjs) bundles it once and defines
// QMS_PHONE_SCRIPT; from the sources it is bundled with esbuild, a dev tool, on first use.

declare const QMS_PHONE_SCRIPT: string | undefined;

const PHONE_PAGE_ENTRY = path.join(import.meta.dirname, 'client', 'phone-page.ts');

/** esbuild options of the script (scripts/build.mjs bundles it the same way). */
const PHONE_SCRIPT_BUILD = { bundle: true, format: 'iife', minify: true, target: 'es2019', legalComments: 'none', write: false } as const;

let built: string | undefined;

export function phoneScript(): string {
  if (typeof QMS_PHONE_SCRIPT !== 'undefined') return QMS_PHONE_SCRIPT;
  if (built === undefined) {
    const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
    const result = esbuild.buildSync({ ...PHONE_SCRIPT_BUILD, entryPoints: [PHONE_PAGE_ENTRY] });
    built = result.outputFiles[0]!.text;
  }
  return built;
}
