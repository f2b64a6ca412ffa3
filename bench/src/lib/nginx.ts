import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { familyPids } from './cpu.ts';

// Debian's nginx as docs/install.md installs it, started here without root's paths: its own
// nginx.conf (optionally raised by deploy/nginx/raise-limits.sh) and a site, with every file in a
// folder of the caller's, in the foreground, under systemd's default soft limit of 1,024 open
// files. Used by deploy/test/nginx-limits.test.ts and the proxy benchmark.

export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
export const DEBIAN_NGINX_CONF = '/etc/nginx/nginx.conf';
export const RAISE_LIMITS = path.resolve(import.meta.dirname, '../../../deploy/nginx/raise-limits.sh');
export const EXAMPLE_SITE = path.resolve(import.meta.dirname, '../../../deploy/nginx/qms.conf');

/** `conf` (Debian's nginx.conf) with its files in `dir`, `dir`/site.conf as its one site, and `workers` workers (default: as Debian's, one per core). */
export function localNginxConf(conf: string, dir: string, workers?: number): string {
  let out = conf
    .replace(/^user\s[^;]*;\n/m, '')
    .replace(/^pid\s[^;]*;/m, `pid ${dir}/nginx.pid;`)
    .replaceAll(/error_log\s[^;]*;/g, `error_log ${dir}/error.log;`)
    .replaceAll(/access_log\s[^;]*;/g, 'access_log off;')
    .replace(/^\s*include \/etc\/nginx\/conf\.d\/[^;]*;\n/m, '')
    .replace(/include \/etc\/nginx\/sites-enabled\/[^;]*;/, `include ${dir}/site.conf;`);
  if (workers !== undefined) out = out.replace(/^worker_processes\s[^;]*;/m, `worker_processes ${workers};`);
  if (!out.includes(`include ${dir}/site.conf;`)) throw new Error('nginx.conf has no sites-enabled include to replace');
  return out;
}

/** Debian's nginx.conf after deploy/nginx/raise-limits.sh, with `connections` per worker. */
export async function raisedNginxConf(file: string, connections?: number): Promise<string> {
  await writeFile(file, readFileSync(DEBIAN_NGINX_CONF, 'utf8'));
  const env = connections === undefined ? process.env : { ...process.env, QMS_NGINX_CONNECTIONS: String(connections) };
  const r = spawnSync('sh', [RAISE_LIMITS, file], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`raise-limits.sh: ${r.stderr.trim()}`);
  return readFileSync(file, 'utf8');
}

export interface LocalSite {
  /** the HTTPS port (443 in the example) */
  port: number;
  /** the plain HTTP port that redirects (80 in the example) */
  httpPort: number;
  /** where the server listens (127.0.0.1:8080 in the example) */
  upstreamPort: number;
  cert: string;
  key: string;
}

/** deploy/nginx/qms.conf as it is shipped, on 127.0.0.1 with these ports and certificate. */
export function localExampleSite(o: LocalSite): string {
  const site = readFileSync(EXAMPLE_SITE, 'utf8');
  const steps: [RegExp, string][] = [
    [/^\s*listen \[::\]:\d+[^;]*;\n/gm, ''],
    [/listen 80;/, `listen 127.0.0.1:${o.httpPort};`],
    [/listen 443 ssl http2;/, `listen 127.0.0.1:${o.port} ssl http2;`],
    [/ssl_certificate\s+[^;]*;/, `ssl_certificate ${o.cert};`],
    [/ssl_certificate_key\s+[^;]*;/, `ssl_certificate_key ${o.key};`],
    [/http:\/\/127\.0\.0\.1:8080/g, `http://127.0.0.1:${o.upstreamPort}`],
  ];
  return steps.reduce((text, [from, to]) => {
    if (!from.test(text)) throw new Error(`deploy/nginx/qms.conf changed: nothing matches ${from}`);
    from.lastIndex = 0;
    return text.replace(from, to);
  }, site);
}

/** nginx -c `dir`/nginx.conf in the foreground, under a soft limit of 1,024 open files as systemd starts it. */
export function startNginx(dir: string): ChildProcess {
  if (!NGINX) throw new Error('nginx not found (apt-get install nginx-light)');
  return spawn('sh', ['-c', `ulimit -Sn 1024 && exec ${NGINX} -c ${dir}/nginx.conf -g 'daemon off;'`], { stdio: 'ignore' });
}

/** Resolves once something accepts connections on 127.0.0.1:`port`. */
export async function listening(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

/** A self-signed ECDSA P-256 certificate for 127.0.0.1 (openssl), as files in `dir`. */
export function selfSignedCertificate(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=qms.bench', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
  return { cert, key };
}

export interface NginxWorker {
  pid: number;
  /** shutting down after a reload, until its connections end */
  old: boolean;
  /** the sockets it holds: a proxied device's connection and its connection to the server are two */
  sockets: number;
}

/** The worker processes of the nginx whose master is `master`. */
export function nginxWorkers(master: number): NginxWorker[] {
  return familyPids(master).filter((pid) => pid !== master).flatMap((pid) => {
    try {
      const old = readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('shutting down');
      const sockets = readdirSync(`/proc/${pid}/fd`).filter((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
        } catch {
          return false;
        }
      }).length;
      return [{ pid, old, sockets }];
    } catch {
      return []; // gone
    }
  });
}
