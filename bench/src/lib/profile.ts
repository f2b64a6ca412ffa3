import { CamelCasePlugin, Kysely, PostgresDialect } from 'kysely';
import WebSocket from 'ws';
import { createPool, type Database } from '@qms/db';
import { buildApp } from '../../../server/src/app.ts';
import { seedLoad, type LoadSite } from './load-setup.ts';
import { startLoopMonitor, takeLoopRecord, type LoopRecord } from './loop-monitor.ts';
import type { QmsServer } from './processes.ts';
import { round, summarize } from './stats.ts';
import { now, sleep } from './util.ts';

// Where the time goes. Two views:
// - profileServer: a CPU profile of the running server child while a load runs. The child is
//   started with --inspect-port=127.0.0.1:0 (no inspector, no cost); SIGUSR1 opens the
//   inspector on 127.0.0.1 only for the profile, so the measured runs are not slowed.
// - sqlProfile: the same routes run in-process (app.inject) on an instrumented Kysely, one at a
//   time on a quiet database: queries per request, time in SQL, time in JavaScript.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber?: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function category(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native/builtin)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const own = /\/work\/[^/]+\/([^/]+)\/src\/(.+)$/.exec(url) ?? /\/(server|db|protocol|hardware)\/src\/(.+)$/.exec(url);
  if (own) return `@qms/${own[1]} ${own[2]}`;
  if (url.startsWith('node:')) return `node core (${url.replace(/^node:(internal\/)?/, '').split('/')[0]})`;
  return url;
}

/** Who a profile's frames belong to: a node's package or file, and the first library or application frame up its stack. */
function framesOf(nodes: ProfileNode[]) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // native and builtin frames (JSON.parse, Buffer copies, crypto...) count for the code that called them
  const categoryOf = (id: number): string => {
    const node = byId.get(id)!;
    const own = category(node.callFrame.url, node.callFrame.functionName);
    if (own !== '(native/builtin)') return own;
    for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
      const up = byId.get(p)!;
      if (up.callFrame.url) return `${category(up.callFrame.url, up.callFrame.functionName)} (native)`;
    }
    return own;
  };
  // who asked for it: the first library or application frame up the stack
  const ownerCache = new Map<number, string>();
  const ownerOf = (id: number): string => {
    const cached = ownerCache.get(id);
    if (cached) return cached;
    let owner = '(node core only)';
    for (let p: number | undefined = id; p !== undefined; p = parent.get(p)) {
      const url = byId.get(p)!.callFrame.url;
      if (/node_modules\/|\/(server|db|protocol|hardware)\/src\//.test(url)) {
        owner = category(url, '').replace(/^@qms\/(\w+) .*/, '@qms/$1');
        break;
      }
    }
    ownerCache.set(id, owner);
    return owner;
  };
  return { byId, parent, categoryOf, ownerOf };
}

export function summarizeProfile(profile: CpuProfile, top = 14): string[] {
  const { byId, categoryOf, ownerOf } = framesOf(profile.nodes);
  const writes = new Map<string, number>();
  let writeTotal = 0;
  const self = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    total += dt;
    const cat = categoryOf(id);
    if (cat === '(idle)') idle += dt;
    else {
      self.set(cat, (self.get(cat) ?? 0) + dt);
      const fn = `${node.callFrame.functionName || '(anonymous)'} [${cat}]`;
      if (node.callFrame.functionName === 'writev' || node.callFrame.functionName === 'writeBuffer' || node.callFrame.functionName.startsWith('write') && !node.callFrame.url) {
        writeTotal += dt;
        const o = ownerOf(id);
        writes.set(o, (writes.get(o) ?? 0) + dt);
      }
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + dt);
    }
  });
  const busy = total - idle;
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    `Server CPU profile: busy ${round((busy / total) * 100, 0)}% of ${round(total / 1e6, 1)} s on its core; self time by package/file, % of busy time: ` +
      rows.map(([name, us]) => `${name} ${round((us / busy) * 100, 1)}%`).join('; ') + '.',
    `Top functions by self time: ${[...byFunction.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6)
      .map(([name, us]) => `${name} ${round((us / busy) * 100, 1)}%`).join('; ')}.`,
    `Socket writes (native write/writev, each a syscall that also does the loopback TCP delivery; the sampler counts wall time, so a write that woke PostgreSQL's backend onto this core also holds the time the thread then waited for it: the kernel time in the CPU figures is the syscalls' own): ${round((writeTotal / busy) * 100, 1)}% of busy time, by who wrote: ${[...writes.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5)
      .map(([name, us]) => `${name} ${round((us / writeTotal) * 100, 0)}%`).join(', ')}.`,
  ];
}

async function inspectorUrl(server: QmsServer): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const m = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(server.output());
    if (m) return m[1]!;
    await sleep(50);
  }
  throw new Error('the server did not open its inspector (started without --inspect-port?)');
}

/** Opens the inspector of a server started with --inspect-port=127.0.0.1:0 (SIGUSR1) and returns a CDP session. */
export async function inspect(server: QmsServer) {
  process.kill(server.pid, 'SIGUSR1');
  const ws = new WebSocket(await inspectorUrl(server));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let seq = 0;
  const pending = new Map<number, (result: unknown) => void>();
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.result);
  });
  const send = <T>(method: string, params: object = {}) => new Promise<T>((resolve, reject) => {
    const id = ++seq;
    const timer = setTimeout(() => reject(new Error(`${method}: no answer`)), 60_000);
    pending.set(id, (r) => {
      clearTimeout(timer);
      resolve(r as T);
    });
    ws.send(JSON.stringify({ id, method, params }));
  });
  return { send, close: () => ws.close() };
}

export async function profileServer(server: QmsServer, ms: number, load: () => Promise<void>): Promise<{ lines: string[]; profile: CpuProfile }> {
  const session = await inspect(server);
  try {
    await session.send('Profiler.enable');
    await session.send('Profiler.setSamplingInterval', { interval: 500 });
    await session.send('Profiler.start');
    const t0 = now();
    await load();
    if (now() - t0 < ms) await sleep(ms - (now() - t0));
    const { profile } = await session.send<{ profile: CpuProfile }>('Profiler.stop');
    return { lines: summarizeProfile(profile), profile };
  } finally {
    session.close();
  }
}

/** A node of V8's sampling heap profile: the bytes its frame allocated (an estimate from the samples). */
interface HeapNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/**
 * What the server's main thread allocates while a load runs: V8's sampling heap profiler with
 * the objects that collections freed kept in (so it counts the garbage, which the collector's
 * time follows, not what stays alive), one sample every 16 KB allocated on average.
 */
export async function allocationProfileServer(server: QmsServer, ms: number, load: () => Promise<void>): Promise<{ lines: string[] }> {
  const session = await inspect(server);
  try {
    await session.send('HeapProfiler.enable');
    await session.send('HeapProfiler.startSampling', {
      samplingInterval: 16_384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true,
    });
    const t0 = now();
    await load();
    if (now() - t0 < ms) await sleep(ms - (now() - t0));
    const seconds = (now() - t0) / 1000;
    const { profile } = await session.send<{ profile: { head: HeapNode } }>('HeapProfiler.stopSampling');
    return { lines: summarizeAllocations(profile.head, seconds) };
  } finally {
    session.close();
  }
}

function summarizeAllocations(head: HeapNode, seconds: number, top = 12): string[] {
  const nodes: (ProfileNode & { selfSize: number })[] = [];
  const walk = (n: HeapNode) => {
    nodes.push({ id: n.id, callFrame: n.callFrame, selfSize: n.selfSize, children: n.children.map((c) => c.id) });
    n.children.forEach(walk);
  };
  walk(head);
  const { byId, parent, categoryOf } = framesOf(nodes);
  const bytes = { total: 0, byCategory: new Map<string, number>(), byFunction: new Map<string, number>(), byStack: new Map<string, number>() };
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  const frameName = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules\/|server\/src\/|db\/src\/)/, '$1')}:${(n.callFrame.lineNumber ?? 0) + 1}`;
  for (const n of nodes) {
    if (!n.selfSize) continue;
    bytes.total += n.selfSize;
    const cat = categoryOf(n.id);
    add(bytes.byCategory, cat, n.selfSize);
    add(bytes.byFunction, `${n.callFrame.functionName || '(anonymous)'} [${cat}]`, n.selfSize);
    // the stack by its first four frames that have a source, the allocating one first
    const stack: string[] = [];
    for (let p: number | undefined = n.id; p !== undefined && stack.length < 4; p = parent.get(p)) {
      const f = byId.get(p)!;
      if (f.callFrame.url) stack.push(frameName(f));
    }
    add(bytes.byStack, stack.join(' < ') || n.callFrame.functionName, n.selfSize);
  }
  const mb = (b: number) => `${round(b / 1e6, 1)} MB`;
  const share = (m: Map<string, number>, k: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k)
    .map(([name, b]) => `${name} ${mb(b)} (${round((b / bytes.total) * 100, 1)}%)`).join('; ');
  return [
    `Server main thread's allocations (sampling heap profile, freed objects kept): ${mb(bytes.total)} in ${round(seconds, 1)} s (${mb(bytes.total / seconds)}/s); by package/file: ${share(bytes.byCategory, top)}.`,
    `Top allocating functions: ${share(bytes.byFunction, 8)}.`,
    `Top allocating stacks (innermost first): ${share(bytes.byStack, 8)}.`,
  ];
}

/** Starts the monitor in the queue server through its inspector (opened with SIGUSR1). */
export async function startServerLoopMonitor(server: QmsServer): Promise<void> {
  const session = await inspect(server);
  try {
    const r = await session.send<{ result: { value?: string }; exceptionDetails?: unknown }>('Runtime.evaluate', {
      expression: `(${startLoopMonitor.toString()})()`, returnByValue: true,
    });
    if (r.exceptionDetails) throw new Error(`loop monitor not started in the server: ${JSON.stringify(r.exceptionDetails).slice(0, 300)}`);
  } finally {
    session.close();
  }
}

export async function takeServerLoopRecord(server: QmsServer): Promise<LoopRecord> {
  const session = await inspect(server);
  try {
    const r = await session.send<{ result: { value: string } }>('Runtime.evaluate', {
      expression: `JSON.stringify((${takeLoopRecord.toString()})())`, returnByValue: true,
    });
    return JSON.parse(r.result.value) as LoopRecord;
  } finally {
    session.close();
  }
}

/** process.memoryUsage() of the server, before and after a full garbage collection (MB). */
export async function serverMemory(server: QmsServer): Promise<{ before: Record<string, number>; after: Record<string, number> }> {
  const session = await inspect(server);
  const usage = async () => {
    const r = await session.send<{ result: { value: string } }>('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())' });
    const raw = JSON.parse(r.result.value) as Record<string, number>;
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, round(v / 2 ** 20, 1)]));
  };
  try {
    const before = await usage();
    await session.send('HeapProfiler.collectGarbage');
    await sleep(500);
    return { before, after: await usage() };
  } finally {
    session.close();
  }
}

/** Per-request query count and SQL time of issue, call-next and finish, in-process on a quiet server. */
export async function sqlProfile(databaseUrl: string, _site: LoadSite, n: number): Promise<{ lines: string[] }> {
  let queries = 0;
  let sqlMs = 0;
  let statements: { sql: string; ms: number }[] = [];
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: createPool(databaseUrl, { max: 20, applicationName: 'qms-bench-sql-profile' }) }),
    plugins: [new CamelCasePlugin({ maintainNestedObjectKeys: true })],
    log(event) {
      queries++;
      sqlMs += event.queryDurationMillis;
      statements.push({ sql: event.query.sql, ms: event.queryDurationMillis });
    },
  });
  const [site] = await seedLoad(db, { sites: 1, countersPerSite: 1, displaysPerSite: 0, kiosksPerSite: 1, servicesPerSite: 1, openCounters: true });
  const app = await buildApp({ db, serveUi: false, config: { rateLimits: false } });
  const stats: Record<string, { total: number[]; sql: number[]; queries: number[] }> = {};
  const byStatement = new Map<string, number[]>(); // call-next: time per statement
  const run = async (name: string, method: 'POST', url: string, token: string, payload: object = {}) => {
    queries = 0;
    sqlMs = 0;
    statements = [];
    const t0 = now();
    const res = await app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` }, payload });
    const total = now() - t0;
    const s = (stats[name] ??= { total: [], sql: [], queries: [] });
    s.total.push(total);
    s.sql.push(sqlMs);
    s.queries.push(queries);
    if (name === 'call-next') {
      for (const st of statements) {
        const key = shortSql(st.sql);
        byStatement.set(key, [...(byStatement.get(key) ?? []), st.ms]);
      }
    }
    return res;
  };
  try {
    const counter = site!.counters[0]!;
    for (let i = 0; i < n + 10; i++) {
      const issued = await run('issue', 'POST', `/sites/${site!.siteId}/tickets`, site!.kiosks[0]!.token, { serviceId: site!.services[0] });
      if (issued.statusCode !== 201) throw new Error(`issue ${issued.statusCode} ${issued.body}`);
      const called = await run('call-next', 'POST', `/counters/${counter.id}/call-next`, counter.staffToken);
      if (called.statusCode !== 200) throw new Error(`call-next ${called.statusCode} ${called.body}`);
      await run('finish', 'POST', `/tickets/${called.json().ticket.id}/finish`, counter.staffToken);
      if (i === 9) { // first 10: warm-up
        for (const k of Object.keys(stats)) delete stats[k];
        byStatement.clear();
      }
    }
  } finally {
    await app.close();
    await db.destroy();
  }
  const line = Object.entries(stats).map(([name, s]) => {
    const t = summarize(s.total).p50;
    const q = summarize(s.sql).p50;
    return `${name}: ${round(summarize(s.queries).p50, 0)} SQL statements, ${round(t, 2)} ms per request of which ${round(q, 2)} ms waiting on PostgreSQL (${round((q / t) * 100, 0)}%)`;
  });
  const perCall = [...byStatement.entries()]
    .map(([sql, ms]) => ({ sql, total: ms.reduce((a, b) => a + b, 0) / n, count: ms.length / n }))
    .sort((a, b) => b.total - a.total).slice(0, 8)
    .map((x) => `${x.sql}${x.count > 1.05 ? ` ×${round(x.count, 1)}` : ''} ${round(x.total, 2)} ms`);
  return {
    lines: [
      `In-process, one request at a time on a quiet server (median of ${n}): ${line.join('; ')}.`,
      `call-next, mean time per call by statement: ${perCall.join('; ')}.`,
    ],
  };
}

/** A statement in a few words: verb and table ("select ticket", "commit"). */
function shortSql(sql: string): string {
  const text = sql.replace(/\s+/g, ' ').trim().toLowerCase();
  const verb = text.split(' ')[0] ?? '';
  const table = /(?:from|into|update) "?([a-z_]+)"?/.exec(text)?.[1];
  const lock = / for update/.test(text) ? ' for update' : '';
  return table ? `${verb} ${table}${lock}` : verb;
}

const KINDS: [string, RegExp][] = [
  ['SQL/pg (pg, pg-protocol: encode, parse rows)', /node_modules\/(pg|pg-protocol|pg-pool|pg-types|postgres-[a-z]+|pgpass)\//],
  ['Kysely (compile, plugins)', /node_modules\/kysely\//],
  ['Fastify/validation (routing, hooks, ajv, serialisers)', /node_modules\/(fastify|@fastify\/[^/]+|ajv|ajv-formats|fast-json-stringify|find-my-way|avvio|light-my-request|fast-uri|fast-querystring|secure-json-parse|pino|abstract-logging)\//],
  ['socket.io (encode, rooms, engine.io, ws)', /node_modules\/(socket\.io|socket\.io-parser|socket\.io-adapter|engine\.io|engine\.io-parser|ws|@socket\.io\/[^/]+)\//],
];

/**
 * Busy time of a profile by kind of work: each sample goes to its own frame's package, or
 * (native and builtin frames: JSON, socket writes, crypto) to the first package up its stack;
 * garbage collection and JSON.parse/stringify get their own lines; the queue server's code is
 * "domain"; node core's HTTP and net are "node http/net"; the rest "other".
 */
export function profileByKind(profile: CpuProfile): { kinds: Record<string, number>; line: string } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const cache = new Map<number, string>();
  const kindOf = (id: number): string => {
    const cached = cache.get(id);
    if (cached) return cached;
    const self = byId.get(id)!.callFrame;
    let kind: string | undefined;
    if (self.functionName === '(garbage collector)') kind = 'GC';
    else if (self.functionName === '(idle)' || self.functionName === '(program)') kind = self.functionName;
    else if (!self.url && /^(parse|stringify|JSONParse|JSONStringify)$/.test(self.functionName)) kind = 'JSON parse/stringify';
    for (let p: number | undefined = id; !kind && p !== undefined; p = parent.get(p)) {
      const url = byId.get(p)!.callFrame.url;
      if (!url) continue;
      kind = KINDS.find(([, re]) => re.test(url))?.[0];
      if (!kind && /\/(server|db|protocol|hardware)\/src\//.test(url)) kind = 'domain (@qms code)';
      if (!kind && /^node:(_http|http|net|internal\/(http|stream|net|streams))/.test(url)) kind = 'node http/net/streams';
      if (!kind && /node_modules\//.test(url)) kind = `other package (${/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)![1]})`;
    }
    kind ??= 'other (node core, builtins)';
    cache.set(id, kind);
    return kind;
  };
  const us = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    if (!byId.has(id)) return;
    const kind = kindOf(id);
    if (kind === '(idle)') return;
    busy += dt;
    us.set(kind, (us.get(kind) ?? 0) + dt);
  });
  const kinds = Object.fromEntries([...us.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, round((v / busy) * 100, 1)]));
  return { kinds, line: `By kind of work, % of busy time: ${Object.entries(kinds).map(([k, v]) => `${k} ${v}%`).join('; ')}.` };
}

/** The functions with the most self time, % of busy time. */
export function topFunctions(profile: CpuProfile, n = 15): string[] {
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const fns = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = profile.timeDeltas[i] ?? 0;
    if (!node || node.callFrame.functionName === '(idle)') return;
    busy += dt;
    const url = node.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/\/work\/[^/]+\/[^/]+\//, '');
    const key = `${node.callFrame.functionName || '(anonymous)'}${url ? ` ${url}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + dt);
  });
  return [...fns.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${round((v / busy) * 100, 1)}% ${k}`);
}
