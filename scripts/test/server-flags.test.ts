import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The server runs with Node flags of its own (a young generation of at most 2 × 32 MB: the
// province peak's RSS, docs/performance.md section i). `npm start` names them; the systemd unit
// and the container start the server without npm, so they must name the same ones.
const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const flagsOf = (command: string[]) => command.filter((word) => word.startsWith('--'));

const npmStart = (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start.split(/\s+/);
const unit = /^ExecStart=(.*)$/m.exec(read('deploy/systemd/qms.service'))![1]!.split(/\s+/);
const container = JSON.parse(/^CMD (\[.*\])$/m.exec(read('deploy/Dockerfile'))![1]!) as string[];

describe('the server\'s Node flags', () => {
  it('are the same however it starts: npm start, the systemd unit, the container', () => {
    expect(flagsOf(npmStart)).toContain('--max-semi-space-size=32');
    for (const command of [npmStart, unit, container]) {
      expect(command.slice(-2)).toEqual(['scripts/run.mjs', 'server']);
      expect(flagsOf(command)).toEqual(flagsOf(npmStart));
    }
  });

  it('are flags this Node hands to V8 with their values (a misspelt one would stop the start)', () => {
    const values = spawnSync(process.execPath, [...flagsOf(npmStart), '--print-flag-values', '-e', '0'], { encoding: 'utf8', timeout: 30_000 });
    expect(values.status).toBe(0);
    for (const flag of flagsOf(npmStart)) expect(values.stdout.split('\n')).toContain(flag);
  });
});
