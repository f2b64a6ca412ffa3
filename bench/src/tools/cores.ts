// Whether this machine's second core is a core of its own for the calls: what work on it, at
// Linux's lowest priority (SCHED_IDLE) or pinned there, does to work on the first. Three probes,
// each alone and then beside a process on the other core (a spinner touching one cache line: the
// core's time only; a walker over 256 MB: the memory's traffic as well), in processes of their
// own (docs/performance.md, section h, "What the second core's work costs the first"):
// - compute: JSON of a screen-sized snapshot, rounds a second (pinned to core 0, the other on 1);
// - caches: a pointer chase over a random cycle of 16 MB, which fits the last-level cache of
//   the machines this was written on (32 MB), ns a hop (pinned as above);
// - scheduling: a coordinator and K workers, each request handed to all of them at once over
//   Unix sockets, each doing 0.4 ms of work (as a call wakes the server, PostgreSQL and the
//   displays' clients together), the round trip's p50 and p99 and the time every process
//   waited for a core (/proc/<pid>/task/*/schedstat), none pinned; the other process SCHED_IDLE.
// - sessions: where Linux weighs tasks by session (autogroups), the scheduling probe again beside
//   a spinner in this session under SCHED_IDLE, and in a session of its own (as each PostgreSQL
//   backend is) under SCHED_IDLE, at its session's nice 19, and at normal priority
//   (db/src/backend-nice.ts; docs/performance.md, section h, "Sessions").
//
//   npx tsx bench/src/tools/cores.ts [--seconds=4] [--workers=3]
//
// Needs taskset and chrt (util-linux) and two cores or more. Run it alone: it measures the machine.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { IDLE_SESSION_NICE, schedIdle, sessionScheduled, setSessionNice } from '@qms/db';

const option = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const seconds = Number(option('seconds') ?? 4);
const workers = Number(option('workers') ?? 3);

const SPIN = 'const b = new Uint8Array(64); for (;;) b[0]++;';
const WALK = 'const b = new Uint8Array(256 << 20); for (;;) for (let i = 0; i < b.length; i += 64) b[i]++;';

const COMPUTE = `
const obj = { tickets: Array.from({ length: 2000 }, (_, i) => ({ id: 'a' + i, number: 'A' + (1000 + i), status: i % 3 ? 'waiting' : 'called',
  at: new Date(1e12 + i).toISOString(), counter: { id: 'c' + (i % 50), name: 'Quầy ' + (i % 50) } })) };
let rounds = 0; const t0 = performance.now();
while (performance.now() - t0 < ${seconds * 1000}) { const o = JSON.parse(JSON.stringify(obj)); if (!o.tickets.length) throw 0; rounds++; }
console.log(rounds / ${seconds});`;

const CHASE = `
const n = (16 << 20) / 64; const a = new Int32Array(n * 16); const perm = Array.from({ length: n }, (_, i) => i);
for (let i = n - 1; i > 0; i--) { const j = (Math.random() * (i + 1)) | 0; const t = perm[i]; perm[i] = perm[j]; perm[j] = t; }
for (let i = 0; i < n; i++) a[perm[i] * 16] = perm[(i + 1) % n] * 16;
let p = 0, hops = 0; const t0 = performance.now();
while (performance.now() - t0 < ${seconds * 1000}) { for (let k = 0; k < 100000; k++) p = a[p]; hops += 100000; }
console.log((performance.now() - t0) * 1e6 / hops + p * 0);`;

// the coordinator prints "p50 p99 waitedMs ranMs" (its workers' and its own threads' schedstat summed)
const FAN = `
const net = require('node:net'); const { spawn } = require('node:child_process'); const fs = require('node:fs');
const K = ${workers}; const sock = '/tmp/qms-cores-' + process.pid + '.sock';
const work = (ms) => { const e = performance.now() + ms; while (performance.now() < e); };
const sched = (pid) => fs.readdirSync('/proc/' + pid + '/task').map((t) => fs.readFileSync('/proc/' + pid + '/task/' + t + '/schedstat', 'utf8').split(' ').map(Number)).reduce((a, b) => [a[0] + b[0], a[1] + b[1]], [0, 0]);
const kids = []; const socks = []; const rtts = []; let t = 0, t0 = 0, got = 0, before;
const all = () => [process.pid, ...kids.map((k) => k.pid)].map(sched).reduce((a, b) => [a[0] + b[0], a[1] + b[1]], [0, 0]);
const send = () => { t = performance.now(); got = 0; work(0.2); for (const s of socks) s.write('x'); };
const srv = net.createServer((s) => {
  s.setNoDelay(true); socks.push(s);
  s.on('data', (d) => {
    got += d.length; if (got < K) return; rtts.push(performance.now() - t);
    if (performance.now() - t0 < ${seconds * 1000}) return void setTimeout(send, 2);
    const [ran, waited] = all(); rtts.sort((a, b) => a - b);
    console.log([rtts[Math.floor(rtts.length / 2)], rtts[Math.floor(rtts.length * 0.99)], (waited - before[1]) / 1e6, (ran - before[0]) / 1e6].join(' '));
    for (const k of kids) k.kill(); srv.close(); fs.rmSync(sock, { force: true });
  });
  if (socks.length === K) { before = all(); t0 = performance.now(); send(); }
});
srv.listen(sock, () => { for (let i = 0; i < K; i++) kids.push(spawn(process.execPath, ['-e', \`
  const net = require('node:net'); const c = net.connect('\${sock}'); c.setNoDelay(true);
  const work = (ms) => { const e = performance.now() + ms; while (performance.now() < e); };
  c.on('data', (d) => { for (let i = 0; i < d.length; i++) { work(0.4); c.write('y'); } });\`], { stdio: 'inherit' })); });`;

/** `code` run with node (through `wrap`, e.g. taskset), its last line of output. */
function run(code: string, wrap: string[] = []): string {
  const r = spawnSync(wrap[0] ?? process.execPath, [...wrap.slice(1), ...(wrap.length ? [process.execPath] : []), '-e', code], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`probe failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').at(-1)!;
}

/**
 * `fn` while `other` runs (none: alone) under `wrap` (e.g. chrt --idle 0, taskset -c 1), or, with
 * `lower`, in a session of its own, lowered by it once started.
 */
async function beside<T>(other: string | undefined, wrap: string[], fn: () => T, lower?: (pid: number) => Promise<unknown>): Promise<T> {
  if (!other) return fn();
  const child = lower
    ? spawn(process.execPath, ['-e', other], { stdio: 'ignore', detached: true })
    : spawn(wrap[0]!, [...wrap.slice(1), process.execPath, '-e', other], { stdio: 'ignore' });
  await lower?.(child.pid!);
  await new Promise((resolve) => setTimeout(resolve, 300));
  try {
    return fn();
  } finally {
    child.kill('SIGKILL');
  }
}

if (cpus().length < 2) throw new Error('one core: nothing to probe');
const others: [string, string | undefined][] = [['alone', undefined], ['spinner', SPIN], ['walker', WALK]];
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
console.log(`${cpus().length} cores (${cpus()[0]!.model}), load average ${round(readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number)[0]!, 2)}; ${seconds} s a probe`);
for (const [name, other] of others) {
  const compute = await beside(other, ['taskset', '-c', '1'], () => Number(run(COMPUTE, ['taskset', '-c', '0'])));
  const chase = await beside(other, ['taskset', '-c', '1'], () => Number(run(CHASE, ['taskset', '-c', '0'])));
  const fan = await beside(other, ['chrt', '--idle', '0'], () => run(FAN).split(' ').map(Number));
  const [p50, p99, waited, ran] = fan as [number, number, number, number];
  console.log(`${name.padEnd(8)} compute ${round(compute, 0)} rounds/s (other core pinned) · 16-MB chase ${round(chase)} ns a hop (other core pinned) · ` +
    `${workers} workers at once: p50 ${round(p50, 2)} ms, p99 ${round(p99, 2)} ms, waited for a core ${round(waited / ran, 2)} ms per ms run (other SCHED_IDLE, unpinned)`);
}

/** The scheduling probe's figures beside a spinner in a session of its own, lowered by `lower`. */
const besideOwnSession = (lower: (pid: number) => Promise<unknown>) => beside(SPIN, [], () => run(FAN).split(' ').map(Number), lower);

const probe = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'], { stdio: 'ignore', detached: true });
const bySession = sessionScheduled(probe.pid!);
probe.kill('SIGKILL');
if (!bySession) {
  console.log('sessions: this kernel does not weigh tasks by session here (no autogroups, or a cgroup of the cpu controller)');
} else {
  const arrangements: [string, () => Promise<number[]>][] = [
    ['this session, SCHED_IDLE', () => beside(SPIN, ['chrt', '--idle', '0'], () => run(FAN).split(' ').map(Number))],
    ['own session, SCHED_IDLE', () => besideOwnSession((pid) => schedIdle(pid))],
    [`own session at nice ${IDLE_SESSION_NICE}`, () => besideOwnSession((pid) => setSessionNice(pid, IDLE_SESSION_NICE))],
    ['own session, normal', () => besideOwnSession(async () => {})],
  ];
  const cells: string[] = [];
  for (const [name, measure] of arrangements) {
    const [, p99, waited, ran] = (await measure()) as [number, number, number, number];
    cells.push(`${name}: ${round(waited / ran, 2)} (p99 ${round(p99, 2)} ms)`);
  }
  console.log(`sessions ${workers} workers at once beside a spinner, waited for a core per ms run: ${cells.join(' · ')}`);
}
