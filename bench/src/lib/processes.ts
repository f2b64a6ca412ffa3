import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '@qms/db';
import { now, sleep } from './util.ts';

// Child processes of the bench: the queue server (server/src/main.ts, as `npm start` runs it)
// and the bare floor servers. Each is one Node process (`node --import tsx`, not the tsx CLI,
// which would put a second process between us and the server: its RSS and its SIGKILL would
// be the wrong ones). Every child listens on 127.0.0.1 and is killed when the bench exits.

export const ROOT = path.resolve(import.meta.dirname, '../../..');
const live = new Set<ChildProcess>();

export function killAll(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
process.once('exit', killAll);

export interface Child {
  child: ChildProcess;
  pid: number;
  /** everything written to stdout and stderr so far */
  output(): string;
  /** resolves with the exit code (or signal) */
  exited: Promise<number | string>;
  /** resident set size of the process, from /proc (MB) */
  rssMb(): number;
  /** SIGTERM, wait up to `ms`, then SIGKILL */
  stop(ms?: number): Promise<void>;
  kill(): Promise<void>;
}

/** `wrap`: a command that execs the node process (same pid), e.g. ['ip', 'netns', 'exec', name, 'taskset', '-c', '0']. */
export function startChild(script: string, env: NodeJS.ProcessEnv, extraNodeArgs: string[] = [], scriptArgs: string[] = [], wrap: string[] = []): Child {
  const argv = [process.execPath, '--import', 'tsx', ...extraNodeArgs, script, ...scriptArgs];
  const [command, ...commandArgs] = [...wrap, ...argv];
  const child = spawn(command!, commandArgs, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // a session of its own, as a service has (systemd starts each in one): where Linux weighs
    // tasks by session (its autogroups), a server in the bench's session would share one weight
    // with the bench's clients and timing threads (db/src/backend-nice.ts)
    detached: true,
  });
  live.add(child);
  let out = '';
  const keep = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const stop = async (ms = 15_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    await exited;
    clearTimeout(timer);
  };
  return {
    child,
    pid: child.pid!,
    output: () => out,
    exited,
    rssMb: () => rssMb(child.pid!),
    stop,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * The memory of a group of processes, each page counted once however many of them map it
 * (the sum of their proportional set sizes): PostgreSQL's shared buffers once, not once per backend.
 */
export function pssMb(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kb / 1024;
}

export function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    return kb / 1024;
  } catch {
    return Number.NaN;
  }
}

export interface QmsServer extends Child {
  url: string;
  port: number;
  /** ms from spawn to a 200 from /api/health */
  startMs: number;
}

export interface QmsServerOptions {
  databaseUrl: string;
  port?: number;
  cluster?: boolean;
  env?: NodeJS.ProcessEnv;
  nodeArgs?: string[];
  /** more arguments of server/src/main.ts */
  args?: string[];
  timeoutMs?: number;
  /** address to listen on (default 127.0.0.1; a bench network namespace's address with `wrap`) */
  host?: string;
  /** command the node process is exec'd through (network namespace, CPU pinning) */
  wrap?: string[];
}

/**
 * Node flags for the queue server under test: those it ships with (the root package.json's
 * `npm start`, which deploy/ repeats), so that the bench measures the server as it runs, then
 * QMS_BENCH_SERVER_NODE_ARGS (space-separated), e.g. a GC setting to compare (V8 takes the last).
 */
export function serverNodeArgs(): string[] {
  const start = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const shipped = start.split(/\s+/).filter((word) => word.startsWith('--'));
  return [...shipped, ...(process.env.QMS_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean)];
}

/** Starts server/src/main.ts on 127.0.0.1 against `databaseUrl` and waits until it is healthy. */
export async function startQmsServer(options: QmsServerOptions): Promise<QmsServer> {
  const port = options.port ?? (await freePort());
  const began = now();
  const c = startChild(path.join(ROOT, 'server/src/main.ts'), {
    DATABASE_URL: options.databaseUrl,
    PORT: String(port),
    HOST: options.host ?? '127.0.0.1',
    QMS_DEMO: '0',
    QMS_CLUSTER: options.cluster ? '1' : '0',
    QMS_RATE_LIMITS: 'off',
    // the bench's screens all come from 127.0.0.1, where a site's come from many addresses
    QMS_CONNECTIONS_PER_ADDRESS: '0',
    LOG_LEVEL: 'warn',
    QMS_ADMIN_PASSWORD: 'bench-admin-password',
    ...options.env,
  }, [...(options.nodeArgs ?? []), ...serverNodeArgs()],
  // the throughput bench's null printers listen on 127.0.0.1, where a site's printers may not be
  ['--allow-loopback-printers', ...(options.args ?? [])], options.wrap);
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  await waitHealthy(url, c, options.timeoutMs ?? 60_000);
  return { ...c, url, port, startMs: now() - began };
}

export async function waitHealthy(url: string, c: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedWith: number | string | undefined;
  void c.exited.then((code) => (exitedWith = code));
  while (Date.now() < deadline) {
    if (exitedWith !== undefined) throw new Error(`server exited (${exitedWith}) before it was healthy:\n${c.output().slice(-4000)}`);
    try {
      const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(25);
  }
  await c.kill();
  throw new Error(`server not healthy within ${timeoutMs} ms:\n${c.output().slice(-4000)}`);
}

/** Sends a message to a child over IPC and waits for the reply carrying the same id. */
export function ipcRequest<T>(c: Child, message: Record<string, unknown>, timeoutMs = 30_000): Promise<T> {
  const id = Math.random().toString(36).slice(2);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      c.child.off('message', onMessage);
      reject(new Error(`no IPC reply to ${String(message.op)} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (reply: { id?: string; error?: string } & Record<string, unknown>) => {
      if (reply?.id !== id) return;
      clearTimeout(timer);
      c.child.off('message', onMessage);
      if (reply.error) reject(new Error(reply.error));
      else resolve(reply as T);
    };
    c.child.on('message', onMessage);
    c.child.send({ ...message, id });
  });
}
