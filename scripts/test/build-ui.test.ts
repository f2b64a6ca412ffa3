import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script, without types
import { APPS, fingerprint } from '../build-ui.mjs';

type App = { name: string; dir: string };
const fingerprintOf = fingerprint as (app: App, at: string) => string;
const kiosk = (APPS as App[]).find((a) => a.name === 'kiosk')!;

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('the screens\' build fingerprint', () => {
  it('changes when the lockfile does (npm install brought another svelte or vite), and only then', async () => {
    const at = await mkdtemp(path.join(tmpdir(), 'qms-fingerprint-'));
    dirs.push(at);
    for (const dir of [kiosk.dir, 'protocol/src', 'ui-shared/src']) {
      await mkdir(path.join(at, dir), { recursive: true });
      await writeFile(path.join(at, dir, 'index.ts'), 'export {};\n');
    }
    const lock = (svelte: string) => writeFile(path.join(at, 'package-lock.json'), JSON.stringify({ packages: { 'node_modules/svelte': { version: svelte } } }));
    await lock('5.57.3');
    const before = fingerprintOf(kiosk, at);
    expect(fingerprintOf(kiosk, at)).toBe(before);
    // same size, other content: an upgrade the sizes alone would not show
    await lock('5.57.4');
    expect(fingerprintOf(kiosk, at)).not.toBe(before);
    await lock('5.57.3');
    expect(fingerprintOf(kiosk, at)).toBe(before);
  });
});
