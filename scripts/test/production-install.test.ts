import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupOf } from '@qms/db/testing';

// The production install, as the README gives it, from a fresh copy of this checkout in a
// folder only its owner may enter (mkdtemp makes it 0700: root's /root is the same):
//   npm ci && npm run build && npm prune --omit=dev && NODE_ENV=production npm start
// and the site agent after the prune, and as one file on a PC that has only its native addons.

const source = path.resolve(import.meta.dirname, '../..');
const asRoot = process.getuid?.() === 0;
let base: string;
let checkout: string;
const servers: ChildProcess[] = [];

/** The environment of a shell on a new server: none of this test run's database or mode. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) =>
    !/^(VITEST|TEST_|QMS_|DATABASE_URL$|NODE_ENV$|NODE_OPTIONS$|PORT$|HOST$|npm_)/.test(key)));
  return { ...env, ...extra };
}

function run(command: string, args: string[], cwd: string, env = cleanEnv()): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 240_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** A data folder the user "postgres" can enter (the checkout's own folder is closed to it). */
async function openFolder(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'qms-production-data-'));
  await chmod(dir, 0o755);
  return dir;
}

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'qms-production-'));
  checkout = path.join(base, 'qms');
  // what a clone of this commit would hold, with the changes not yet committed
  const files = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], source).stdout.split('\0').filter(Boolean);
  for (const file of files) {
    if (!existsSync(path.join(source, file))) continue; // deleted, not yet committed
    await mkdir(path.dirname(path.join(checkout, file)), { recursive: true });
    await copyFile(path.join(source, file), path.join(checkout, file));
  }
  run('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], checkout);
  run('npm', ['run', 'build'], checkout);
  run('npm', ['prune', '--omit=dev', '--no-audit', '--no-fund'], checkout);
}, 480_000);

afterAll(async () => {
  for (const server of servers) {
    try {
      process.kill(-server.pid!, 'SIGKILL');
    } catch {
      // the group has ended
    }
  }
  if (base) await rm(base, { recursive: true, force: true });
});

/** The command lines of the processes of a process group (npm's, started detached), from /proc. */
function commandLines(group: number): string[][] {
  const lines: string[][] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (groupOf(`/proc/${pid}/stat`) !== group) continue;
      lines.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean));
    } catch {
      // ended meanwhile
    }
  }
  return lines;
}

/** Starts `npm start` in production; resolves with its base URL once it says it runs. */
function start(env: Record<string, string>): { child: ChildProcess; lines: string[]; running: Promise<string>; exited: Promise<number | null> } {
  const child = spawn('npm', ['start', '--silent'], { cwd: checkout, env: cleanEnv({ NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', ...env }), detached: true });
  servers.push(child);
  const lines: string[] = [];
  let buffered = '';
  const running = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const complete = buffered.split('\n');
      buffered = complete.pop()!;
      for (const line of complete) {
        lines.push(line);
        const at = /running at (http:\/\/\S+) /.exec(line);
        if (at) resolve(at[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`npm start exited ${code} before it ran:\n${lines.join('\n')}${buffered}`)));
  });
  // 'close': npm and the server it started have both ended (they share the pipes)
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => {
    if (buffered) lines.push(buffered);
    resolve(code);
  }));
  return { child, lines, running, exited };
}

describe('the production install', () => {
  it('leaves none of the dev tools after the prune', () => {
    for (const tool of ['tsx', 'vite', 'svelte', '@sveltejs/vite-plugin-svelte', 'esbuild', 'vitest', 'typescript', 'playwright-core']) {
      expect(existsSync(path.join(checkout, 'node_modules', tool)), tool).toBe(false);
    }
    expect(existsSync(path.join(checkout, 'dist/server.mjs'))).toBe(true);
  });

  it('NODE_ENV=production npm start: the built screens, an empty centre, and only how to sign in as admin', async () => {
    const data = path.join(await openFolder(), 'data');
    const server = start({ QMS_DATA_DIR: data });
    const url = await server.running;
    await new Promise((r) => setTimeout(r, 300)); // the sign-in lines follow the running line

    const said = server.lines.filter((l) => l && !l.startsWith('{')); // the rest are the JSON logs
    expect(said).toHaveLength(3);
    expect(said[0]).toMatch(/^Queue management system is running at http:\/\/127\.0\.0\.1:\d+ \(embedded PostgreSQL in /);
    const password = /as "admin" with the password (\S+)$/.exec(said[1]!)?.[1];
    expect(password).toBeDefined();
    expect(said.join('\n')).not.toMatch(/demo|canbo|pair=/i);

    // npm start runs the server with the Node flags it names (deploy/test/deploy-files.test.ts)
    const node = commandLines(server.child.pid!).find((argv) => argv.includes('scripts/run.mjs'));
    expect(node).toEqual([expect.stringMatching(/node$/), '--max-semi-space-size=32', 'scripts/run.mjs', 'server']);

    const health = await fetch(`${url}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', db: 'ok' });
    for (const screen of ['kiosk', 'display', 'counter', 'rating', 'manage']) {
      const page = await fetch(`${url}/${screen}/`);
      expect(page.status, screen).toBe(200);
      expect(await page.text()).toContain('<script type="module"');
    }
    const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    const sites = await fetch(`${url}/api/v1/sites`, { headers: { authorization: `Bearer ${token}` } });
    expect(await sites.json()).toEqual([]); // no demo centre
    // reports run on the built report thread (dist/report-thread.mjs), without the dev tools
    const report = await fetch(`${url}/api/v1/reports/summary?from=2026-01-01T00:00:00%2B07:00&to=2026-02-01T00:00:00%2B07:00`, { headers: { authorization: `Bearer ${token}` } });
    expect(report.status).toBe(200);
    expect(((await report.json()) as { totals: { issued: number } }).totals.issued).toBe(0);
    const exported = await fetch(`${url}/api/v1/reports/tickets.csv?from=2026-01-01T00:00:00%2B07:00&to=2026-02-01T00:00:00%2B07:00`, { headers: { authorization: `Bearer ${token}` } });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('x-total-rows')).toBe('0');
    expect((await exported.text()).split('\r\n')[0]).toContain('site_code,code,service_code');
    const demoOfficial = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'canbo1', password: 'x'.repeat(12) }) });
    expect(demoOfficial.status).toBe(401);

    // as root, PostgreSQL runs as "postgres", which cannot enter the checkout: its programs were copied
    const copies = (await readdir(data)).filter((f) => f.startsWith('postgresql-'));
    expect(copies).toHaveLength(asRoot ? 1 : 0);

    process.kill(-server.child.pid!, 'SIGTERM'); // as systemd stops a service: every process of it
    await server.exited;
    expect(server.lines).toContain('Stopped.'); // the server closed the database cleanly

    // the next start prints no password: the admin exists
    const again = start({ QMS_DATA_DIR: data });
    await again.running;
    await new Promise((r) => setTimeout(r, 300));
    expect(again.lines.filter((l) => l && !l.startsWith('{'))).toHaveLength(1);
    process.kill(-again.child.pid!, 'SIGTERM');
    await again.exited;
    expect(again.lines).toContain('Stopped.');

    const migrate = run('npm', ['run', '--silent', 'db:migrate'], checkout, cleanEnv({ NODE_ENV: 'production', QMS_DATA_DIR: data }));
    expect(migrate.stdout).toContain('already up to date');

    // backup and restore from the build too: the admin made above comes back in a new data folder
    const file = path.join(await openFolder(), 'site.qmsbackup');
    run('npm', ['run', '--silent', 'backup', '--', file], checkout, cleanEnv({ NODE_ENV: 'production', QMS_DATA_DIR: data }));
    expect(existsSync(file)).toBe(true);
    const elsewhere = path.join(await openFolder(), 'data');
    const restored = run('npm', ['run', '--silent', 'restore', '--', file], checkout, cleanEnv({ NODE_ENV: 'production', QMS_DATA_DIR: elsewhere }));
    expect(restored.stdout).toMatch(/Restored .* into embedded PostgreSQL/);
    const back = start({ QMS_DATA_DIR: elsewhere });
    const backUrl = await back.running;
    const relogin = await fetch(`${backUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
    expect(relogin.status).toBe(200);
    process.kill(-back.child.pid!, 'SIGTERM');
    await back.exited;
  }, 120_000);

  it.runIf(asRoot)('as root, a data folder the postgres user cannot enter stops the start at once with one sentence', async () => {
    const server = start({ QMS_DATA_DIR: path.join(checkout, 'data') });
    server.running.catch(() => {}); // it never runs
    expect(await server.exited).toBe(1);
    const said = server.lines.filter(Boolean);
    const sentence = said.find((l) => l.includes('cannot enter'));
    expect(sentence).toContain(`cannot enter ${base}`);
    expect(sentence).toContain('Set QMS_DATA_DIR to a folder outside it');
    expect(said.some((l) => /^\s+at /.test(l))).toBe(false); // no stack trace
  }, 60_000);

  it('the site agent: npm run agent after the prune, and one file on a kiosk PC with only its native addons', async () => {
    const help = run('npm', ['run', '--silent', 'agent', '--', '--help'], checkout);
    expect(help.stdout).toContain('Usage: qms-site-agent --config');

    // the kiosk PC: the file and its package.json, `npm install`, and nothing of the checkout
    const pc = await openFolder();
    for (const file of ['qms-site-agent.mjs', 'package.json']) await copyFile(path.join(checkout, 'dist/site-agent', file), path.join(pc, file));
    await copyFile(path.join(source, 'hardware/site-agent.example.json'), path.join(pc, 'site-agent.json'));
    run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], pc);
    expect((await readdir(pc)).sort()).toEqual(['node_modules', 'package-lock.json', 'package.json', 'qms-site-agent.mjs', 'site-agent.json']);
    // loading it renders nothing yet but registers the ticket fonts, which are built into the file
    const check = run(process.execPath, ['qms-site-agent.mjs', '--config', 'site-agent.json', '--check'], pc);
    expect(check.stdout + check.stderr).toMatch(/valid|ok/i);
    await rm(pc, { recursive: true, force: true });
  }, 120_000);
});
