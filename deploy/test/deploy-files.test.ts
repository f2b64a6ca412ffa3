import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { NGINX, selfSignedCertificate } from '../../bench/src/lib/nginx.ts';

// The deployment files, checked with what runs here (no Docker engine): nginx -t on the example
// site, systemd-analyze on the units, and the Dockerfile and compose.yaml held to the README's
// tested production steps.

const deploy = path.resolve(import.meta.dirname, '..');
const read = (file: string) => readFileSync(path.join(deploy, file), 'utf8');
const README_STEPS = ['npm ci', 'npm run build', 'npm prune --omit=dev'];
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('deployment files', () => {
  it('the Dockerfile builds with exactly the README\'s steps and runs the build as a user that is not root', () => {
    const lines = read('Dockerfile').split('\n');
    const stages = lines.map((l, i) => (l.startsWith('FROM ') ? i : -1)).filter((i) => i >= 0);
    expect(stages).toHaveLength(2);
    const build = lines.slice(stages[0], stages[1]);
    const runtime = lines.slice(stages[1]);
    expect(build.filter((l) => l.startsWith('RUN ')).map((l) => l.slice(4).trim())).toEqual(README_STEPS);
    expect(build[0]).toMatch(/^FROM node:24[-\w.]* AS build$/);
    expect(runtime.find((l) => l.startsWith('USER '))).toBe('USER node');
    expect(runtime.join('\n')).toMatch(/ENV NODE_ENV=production/);
    expect(runtime.join('\n')).toMatch(/HEALTHCHECK[\s\S]*\/api\/health/);
    expect(runtime.at(-2) ?? '').toMatch(/^CMD \["node", ("--[^"]+", )*"scripts\/run\.mjs", "server"\]$/);
    // the README's production section gives the same steps
    const readme = readFileSync(path.join(deploy, '..', 'README.md'), 'utf8');
    expect(readme).toContain(`${README_STEPS.join(' && ')}\nNODE_ENV=production npm start`);
  });

  it('the server gets the same Node flags however it starts: npm start, the systemd unit, the container', () => {
    // a young generation of at most 2 × 32 MB: the province peak's RSS (docs/performance.md, section i)
    const flagsOf = (command: string[]) => command.filter((word) => word.startsWith('--'));
    const npmStart = (JSON.parse(readFileSync(path.join(deploy, '..', 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(/\s+/);
    const unit = /^ExecStart=(.*)$/m.exec(read('systemd/qms.service'))![1]!.split(/\s+/);
    const container = JSON.parse(/^CMD (\[.*\])$/m.exec(read('Dockerfile'))![1]!) as string[];
    expect(flagsOf(npmStart)).toContain('--max-semi-space-size=32');
    for (const command of [npmStart, unit, container]) {
      expect(command.slice(-2)).toEqual(['scripts/run.mjs', 'server']);
      expect(flagsOf(command)).toEqual(flagsOf(npmStart));
    }
    // flags this Node hands to V8 with their values (a misspelt one would stop the start)
    const values = spawnSync(process.execPath, [...flagsOf(npmStart), '--print-flag-values', '-e', '0'], { encoding: 'utf8', timeout: 30_000 });
    expect(values.status).toBe(0);
    for (const flag of flagsOf(npmStart)) expect(values.stdout.split('\n')).toContain(flag);
  });

  it('compose.yaml: the server waits for a healthy PostgreSQL 18 and keeps its data in volumes', () => {
    const compose = parse(read('compose.yaml')) as { services: Record<string, any>; volumes: Record<string, unknown> };
    expect(Object.keys(compose.services).sort()).toEqual(['db', 'qms']);
    expect(compose.services.db.image).toBe('postgres:18');
    expect(compose.services.db.healthcheck.test.join(' ')).toContain('pg_isready');
    expect(compose.services.qms.build).toEqual({ context: '..', dockerfile: 'deploy/Dockerfile' });
    expect(compose.services.qms.depends_on.db.condition).toBe('service_healthy');
    expect(compose.services.qms.environment.DATABASE_URL).toMatch(/^postgres:\/\/qms:.*@db:5432\/qms$/);
    expect(Object.keys(compose.volumes).sort()).toEqual(['pgdata', 'qmsdata']);
  });

  it('nginx -t accepts the example site, which upgrades the sockets and forwards the client\'s address and scheme', async () => {
    const site = read('nginx/qms.conf');
    const sockets = site.slice(site.indexOf('location /socket.io/'));
    expect(sockets).toMatch(/proxy_http_version 1\.1;/);
    expect(sockets).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(sockets).toMatch(/proxy_set_header Connection "upgrade";/);
    expect(sockets).toMatch(/proxy_set_header X-Forwarded-Proto \$scheme;/);
    expect(site).toMatch(/return 301 https:/);

    expect(NGINX, 'nginx (apt-get install nginx-light; .ci/run installs it)').toBeDefined();
    const dir = await mkdtemp(path.join(tmpdir(), 'qms-nginx-'));
    dirs.push(dir);
    const { cert, key } = selfSignedCertificate(dir);
    await writeFile(path.join(dir, 'qms.conf'), site.replaceAll('/etc/ssl/qms/fullchain.pem', cert).replaceAll('/etc/ssl/qms/privkey.pem', key));
    await writeFile(path.join(dir, 'nginx.conf'), `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\nhttp {\n  access_log off;\n  include ${dir}/qms.conf;\n}\n`);
    const check = spawnSync(NGINX!, ['-t', '-q', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
  });

  it('systemd-analyze verify finds nothing wrong in the units, which are hardened', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'qms-units-'));
    dirs.push(dir);
    for (const unit of ['qms.service', 'qms-agent.service']) {
      const text = read(`systemd/${unit}`);
      expect(text).toMatch(/^ExecStart=\/usr\/bin\/node (--\S+ )*scripts\/run\.mjs (server|agent)/m);
      for (const key of ['NoNewPrivileges=true', 'ProtectSystem=strict', 'ProtectHome=true', 'PrivateTmp=true']) expect(text, `${unit}: ${key}`).toContain(key);
      expect(text).not.toMatch(/^MemoryDenyWriteExecute=true/m); // V8's JIT
      // the unit as installed, its ExecStart pointing at a node that exists here
      await writeFile(path.join(dir, unit), text.replaceAll('/usr/bin/node', process.execPath));
    }
    const verify = spawnSync('systemd-analyze', ['verify', '--man=no', path.join(dir, 'qms.service'), path.join(dir, 'qms-agent.service')], { encoding: 'utf8' });
    // this machine may have no running systemd (a container): verify then still parses the
    // units and reports unknown keys and bad values, which is what matters here
    const problems = `${verify.stdout}${verify.stderr}`.split('\n')
      .filter((l) => /Unknown key|Failed to parse|Invalid|bad-setting|Unknown section/i.test(l));
    expect(problems).toEqual([]);
  });
});
