import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '@qms/db';
import { DEBIAN_NGINX_CONF, EXAMPLE_SITE, listening, localNginxConf, NGINX, RAISE_LIMITS, startNginx } from '../../bench/src/lib/nginx.ts';

// nginx in front of a province's server (docs/install.md step 5, docs/sizing.md): every device
// keeps a socket open, which through nginx is two connections. Debian's nginx.conf allows 768 a
// worker, and systemd gives the nginx service 1,024 open files. deploy/nginx/raise-limits.sh
// raises both. Here: Debian's own nginx.conf (with one worker, this test's paths and a site that
// proxies /socket.io/ as deploy/nginx/qms.conf does), started under a soft limit of 1,024 open
// files as systemd starts it, carries 600 sockets only after the script.

const SOCKETS = 600;
const cleanup: (() => Promise<unknown> | void)[] = [];
afterAll(async () => {
  for (const undo of cleanup.reverse()) await undo();
});

/** A server in a process of its own (its sockets are not this one's open files) that answers every upgrade with 101 and keeps the socket. */
async function upstream(): Promise<number> {
  const child = spawn(process.execPath, ['-e', `
    const server = require('node:http').createServer((req, res) => res.end('ok'));
    server.on('upgrade', (req, socket) => socket.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n\\r\\n'));
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));
    process.stdin.on('end', () => process.exit(0)); process.stdin.resume();`], { stdio: ['pipe', 'pipe', 'inherit'] });
  cleanup.push(() => child.kill());
  return new Promise((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
}

/** Opens `n` sockets through nginx at once; how many were upgraded (101) and still open a moment later. */
async function openSockets(port: number, n: number): Promise<number> {
  const sockets: net.Socket[] = [];
  const upgraded = await Promise.all(Array.from({ length: n }, () => new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    sockets.push(socket);
    let reply = '';
    const done = (ok: boolean) => { clearTimeout(timer); resolve(ok); };
    const timer = setTimeout(() => done(false), 10_000);
    socket.on('connect', () => socket.write(`GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: qms.example.gov.vn\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`));
    socket.on('data', (d) => {
      reply += d.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('HTTP/1.1 101'));
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  })));
  await new Promise((r) => setTimeout(r, 500));
  const open = sockets.filter((s, i) => upgraded[i] && !s.destroyed && s.readyState === 'open').length;
  for (const s of sockets) s.destroy();
  return open;
}

async function carried(conf: string): Promise<{ open: number; log: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'qms-nginx-limits-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const site = readFileSync(EXAMPLE_SITE, 'utf8');
  // the socket location of the example site, as it proxies the sockets
  const sockets = /location \/socket\.io\/ \{[^}]*\}/.exec(site)![0].replace(/proxy_pass [^;]*;/, `proxy_pass http://127.0.0.1:${await upstream()};`);
  await writeFile(path.join(dir, 'site.conf'), `server {\n  listen 127.0.0.1:${port};\n  ${sockets}\n}\n`);
  await writeFile(path.join(dir, 'nginx.conf'), localNginxConf(conf, dir, 1));
  const child = startNginx(dir);
  cleanup.push(() => child.kill());
  await listening(port);
  const open = await openSockets(port, SOCKETS);
  child.kill();
  await new Promise((r) => child.once('exit', r));
  return { open, log: await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '') };
}

describe('nginx for a province', () => {
  it(`carries ${SOCKETS} sockets with raise-limits.sh, not with Debian's nginx.conf as installed`, async () => {
    expect(NGINX, 'nginx (apt-get install nginx-light; .ci/run installs it)').toBeDefined();
    expect(existsSync(DEBIAN_NGINX_CONF), `${DEBIAN_NGINX_CONF}, as Debian's nginx package installs it`).toBe(true);
    const debian = readFileSync(DEBIAN_NGINX_CONF, 'utf8');

    const before = await carried(debian);
    // one worker of 768 connections: about 380 sockets, the rest reset
    expect(before.open).toBeLessThan(SOCKETS);

    const dir = await mkdtemp(path.join(tmpdir(), 'qms-nginx-raised-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const raise = async (file: string, env: Record<string, string> = {}) => {
      await writeFile(path.join(dir, file), debian);
      for (let run = 0; run < 2; run++) {
        const raised = spawnSync('sh', [RAISE_LIMITS, path.join(dir, file)], { encoding: 'utf8', env: { ...process.env, ...env } });
        expect(raised.status, raised.stderr).toBe(0);
      }
      return readFile(path.join(dir, file), 'utf8');
    };
    // its defaults, run twice: each directive once
    const defaults = await raise('default.conf');
    expect(defaults.match(/^\s*worker_connections\s+16384;/gm)).toHaveLength(1);
    expect(defaults.match(/^worker_rlimit_nofile\s+32768;/gm)).toHaveLength(1);
    // started here with fewer, so that its workers' open files stay under this machine's hard
    // limit (systemd's is 524,288; a container's may be 20,000)
    const conf = await raise('nginx.conf', { QMS_NGINX_CONNECTIONS: '4096' });
    expect(conf).toMatch(/^worker_rlimit_nofile\s+8192;/m);

    const after = await carried(conf);
    expect(after.log).not.toMatch(/worker_connections are not enough|Too many open files/);
    expect(after.open).toBe(SOCKETS);
  }, 60_000);
});
