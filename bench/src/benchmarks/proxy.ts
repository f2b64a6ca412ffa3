import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createDb, freePort } from '@qms/db';
import { CpuMeter, describeCpu, familyPids, postmasterPid, type CpuAccount } from '../lib/cpu.ts';
import { post } from '../lib/http.ts';
import { seedLoad, type LoadSite } from '../lib/load-setup.ts';
import { listening, localExampleSite, localNginxConf, NGINX, nginxWorkers, raisedNginxConf, selfSignedCertificate, startNginx, type NginxWorker } from '../lib/nginx.ts';
import { pssMb, startQmsServer, type QmsServer } from '../lib/processes.ts';
import { serverMemory } from '../lib/profile.ts';
import type { BenchContext, BenchResult, Figure } from '../lib/result.ts';
import { Fleet } from '../lib/sockets.ts';
import { round, summarize } from '../lib/stats.ts';
import { now, sleep, until } from '../lib/util.ts';
import { measureStorm } from './storm.ts';

type Storm = Awaited<ReturnType<typeof measureStorm>>;

// e. A province's devices through nginx with TLS, as docs/install.md sets a server up: Debian's
// nginx.conf raised by deploy/nginx/raise-limits.sh, the site deploy/nginx/qms.conf as shipped
// (with a self-signed ECDSA P-256 certificate), the server behind it on 127.0.0.1. The other
// benchmarks reach the server directly; here every device's socket is a TLS connection to nginx
// and nginx's own connection to the server.
//   1. The same devices first straight to the server (the floor): first connection, and a crash
//      (SIGKILL) and restart to every device with a fresh snapshot.
//   2. Then through nginx: first connection (every device a full TLS handshake), nginx's memory,
//      calls timed to a display through nginx against a display of the same site connected
//      straight, a crash and restart of the server behind nginx (nginx stays up: it closes every
//      device's connection, each one makes a new one), and a restart of nginx (the server stays up).
//   3. A reload of nginx with every device connected: who disconnects, what the old workers hold
//      30 s later, calls through them; then one more crash of the server, after which the old
//      workers should leave (last, so that no restart above has old workers in its CPU account:
//      a process that exits during a measure takes its CPU with it).
// The clients are Node's, each with its own TLS session cache: a first connection is a full TLS
// handshake, a reconnection resumes the session as a browser does (--tls-sessions=off: never).

const TITLE = 'A province\'s devices through nginx with TLS';

export async function proxyBench(ctx: BenchContext): Promise<BenchResult> {
  if (!NGINX) return { name: 'proxy', title: TITLE, figures: [], notes: [], error: 'nginx not found (apt-get install nginx-light)' };
  const sitesN = ctx.num('sites', 150, 30);
  const devices = ctx.num('devices', 4500, 600);
  const calls = ctx.num('calls', 600, 150);
  const stormTimeoutMs = ctx.num('storm-timeout', 60, 30) * 1000;
  // --tls-sessions=off: every connection through nginx a full handshake (the devices keep no session)
  const tlsSessions = ctx.args.get('tls-sessions') !== 'off';
  const notes: string[] = [];
  const figures: Figure[] = [];
  const loadBefore = os.loadavg().map((l) => round(l, 2)).join(', ');
  const raw: Record<string, unknown> = {};
  const secs = (ms: number) => round(ms / 1000, 2);
  const perDevice = (a: CpuAccount, group: string) => {
    const pct = a.groups[group];
    return pct === undefined ? '-' : round((pct / 100) * a.wallS * 1000 / devicesN, 2);
  };

  // a site's devices, and two displays more that time the calls
  const perSite = Math.ceil(devices / sitesN);
  const kiosks = Math.max(1, Math.round(perSite * 0.1));
  const displays = Math.max(1, Math.round(perSite * 0.2)) + 2;
  const counterDevices = Math.max(1, perSite - (displays - 2) - kiosks);
  const url = await ctx.database('proxy');
  const db = createDb(url, { max: 4 });
  const sites: LoadSite[] = await seedLoad(db, {
    sites: sitesN, countersPerSite: Math.max(10, Math.ceil(counterDevices / 3)), displaysPerSite: displays, kiosksPerSite: kiosks,
    counterDevicesPerSite: counterDevices, openCounters: true,
  });
  // each site's first display is timed (straight and through nginx), the rest are the fleet
  const tokens = sites.flatMap((s) => [...s.displays.slice(2), ...s.kiosks, ...s.counterDevices].map((d) => d.token));
  const devicesN = tokens.length;

  // nginx's connections: each device is two; its workers may open twice as many files, under
  // this machine's hard limit (systemd's is 524,288; a container's may be far lower)
  const hardFiles = Number(readFileSync('/proc/self/limits', 'utf8').match(/Max open files\s+\d+\s+(\d+)/)?.[1] ?? 65536);
  const connections = Math.min(16384, Math.floor(hardFiles / 2));
  const dir = await mkdtemp(path.join(tmpdir(), 'qms-bench-nginx-'));
  const { cert, key } = selfSignedCertificate(dir);
  const ca = readFileSync(cert, 'utf8');
  const port = await freePort();
  const tlsPort = await freePort();
  await writeFile(path.join(dir, 'nginx.conf'), localNginxConf(await raisedNginxConf(path.join(dir, 'raised.conf'), connections), dir));
  await writeFile(path.join(dir, 'site.conf'), localExampleSite({ port: tlsPort, httpPort: await freePort(), upstreamPort: port, cert, key }));

  const serverOptions = { databaseUrl: url, port, env: { QMS_TRUST_PROXY: '127.0.0.1' }, nodeArgs: ['--inspect-port=127.0.0.1:0'] };
  let server: QmsServer = await startQmsServer(serverOptions);
  /** the server's RSS, and its heap after a full collection (MB) */
  const memory = async () => ({ rss: round(server.rssMb(), 0), heapAfterGc: (await serverMemory(server).catch(() => undefined))?.after.heapUsed ?? Number.NaN });
  let nginx: ChildProcess | undefined;
  const startProxy = async () => {
    nginx = startNginx(dir);
    await listening(tlsPort);
  };
  const stopProxy = async () => {
    const n = nginx;
    if (!n || n.exitCode !== null) return;
    await new Promise((resolve) => {
      n.once('exit', resolve);
      // a fast shutdown: every connection closed at once. (Debian's `systemctl restart nginx` asks
      // for a graceful one first, waits up to 5 s with the devices still connected, then kills.)
      n.kill('SIGTERM');
    });
  };
  const restartServer = async () => {
    server = await startQmsServer(serverOptions);
  };
  // PostgreSQL: the postmaster of a backend of the bench's pool
  const postgres = { family: await postmasterPid(db) };
  /**
   * CPU by process; `without` leaves out a group whose process a restart replaces (the meter
   * follows the processes it started with): its old and new processes count in "others".
   */
  const meter = (without?: 'server' | 'nginx') => new CpuMeter({
    ...(without === 'server' ? {} : { server: { pids: [server.pid] } }),
    ...(without === 'nginx' || nginx?.pid === undefined || nginx.exitCode !== null ? {} : { nginx: { family: nginx.pid } }),
    PostgreSQL: postgres,
    'bench process (clients)': { self: true },
  });
  const fleets: Fleet[] = [];
  try {
    // the timed displays first: they warm the server's code up for the straight fleet's
    // first connection, which would otherwise pay for it alone
    const watched = sites.map((s) => ({ site: s, counter: s.counters[0]! }));
    const watchStraight = await Fleet.connect(server.url, watched.map((w) => w.site.displays[0]!.token), { concurrency: 50 });
    fleets.push(watchStraight);

    // ---- 1. straight to the server ----
    let m = meter();
    m.start();
    let t0 = now();
    const direct = await Fleet.connect(server.url, tokens, { concurrency: 100 });
    fleets.push(direct);
    const directConnectMs = now() - t0;
    m.stop();
    const directConnectCpu = m.result();
    if (direct.ready() < tokens.length) throw new Error(`straight: only ${direct.ready()} of ${tokens.length} devices got a snapshot`);
    await sleep(3000);
    const directMemory = await memory();
    ctx.log(`  straight: ${tokens.length} devices connected in ${secs(directConnectMs)} s; the server ${directMemory.rss} MB (heap after a full collection ${directMemory.heapAfterGc} MB)`);
    const directCrash = await measureStorm(direct, () => server.kill(), restartServer, stormTimeoutMs);
    ctx.log(`  straight: crash restart, ${directCrash.fresh}/${direct.size} fresh in ${secs(directCrash.totalMs)} s`);
    // every device reconnecting at once, the server up: what a restart of nginx asks of it
    await sleep(2000);
    const waveMs = await direct.reconnectAll(stormTimeoutMs);
    ctx.log(`  straight: every device reconnecting at once, all fresh in ${secs(waveMs)} s`);
    await direct.close();
    fleets.splice(fleets.indexOf(direct), 1);
    // a new server process for the second phase, so that both phases' memory is that of a
    // process that took one wave of connections (this one took three)
    await server.stop();
    await restartServer();
    await sleep(2000);

    // ---- 2. through nginx with TLS ----
    await startProxy();
    const base = `https://127.0.0.1:${tlsPort}`;
    m = meter();
    m.start();
    t0 = now();
    const proxied = await Fleet.connect(base, tokens, { concurrency: 100, ca, tlsSessions });
    fleets.push(proxied);
    const proxiedConnectMs = now() - t0;
    m.stop();
    const connectCpu = m.result();
    if (proxied.ready() < tokens.length) throw new Error(`through nginx: only ${proxied.ready()} of ${tokens.length} devices got a snapshot (${JSON.stringify(proxied.errorCounts)})`);
    ctx.log(`  through nginx: ${tokens.length} devices connected in ${secs(proxiedConnectMs)} s; ${describeCpu(connectCpu)}`);
    await sleep(3000);
    const nginxPids = familyPids(nginx!.pid!);
    const nginxMb = pssMb(nginxPids);
    const proxiedMemory = await memory();
    ctx.log(`  nginx ${round(nginxMb, 0)} MB (${nginxPids.length} processes) and the server ${proxiedMemory.rss} MB (heap after a full collection ${proxiedMemory.heapAfterGc} MB) with ${tokens.length} devices through nginx`);

    // calls: a display of each site straight, another through nginx; the same event, two paths
    const watchProxied = await Fleet.connect(base, watched.map((w) => w.site.displays[1]!.token), { concurrency: 50, ca });
    fleets.push(watchProxied);
    const arrivals = new Map<string, { straight?: number; proxied?: number }>();
    const listen = (fleet: Fleet, key: 'straight' | 'proxied') => fleet.clients.forEach((c) => c.socket.on('ticket:called', (p: { ticket: { id: string } }) => {
      const a = arrivals.get(p.ticket.id) ?? {};
      a[key] ??= now();
      arrivals.set(p.ticket.id, a);
    }));
    listen(watchStraight, 'straight');
    listen(watchProxied, 'proxied');
    /** `count` calls, one at a time over the watched sites, each issued and finished around it: ms from call-next to each display */
    const timeCalls = async (count: number) => {
      const straightMs: number[] = [];
      const proxiedMs: number[] = [];
      const extraMs: number[] = [];
      for (let i = 0; i < count; i++) {
        const w = watched[i % watched.length]!;
        const issued = await post(server.url, `/sites/${w.site.siteId}/tickets`, w.site.kiosks[0]!.token, { serviceId: w.site.services[0] });
        if (issued.status !== 201) throw new Error(`issue: ${issued.status} ${JSON.stringify(issued.body)}`);
        const sent = now();
        const called = await post(server.url, `/counters/${w.counter.id}/call-next`, w.counter.staffToken);
        if (called.status !== 200) throw new Error(`call-next: ${called.status} ${JSON.stringify(called.body)}`);
        const id = (called.body as { ticket: { id: string } }).ticket.id;
        const deadline = now() + 5000;
        while (!(arrivals.get(id)?.straight && arrivals.get(id)?.proxied) && now() < deadline) await sleep(1);
        const a = arrivals.get(id);
        if (a?.straight && a.proxied) {
          straightMs.push(a.straight - sent);
          proxiedMs.push(a.proxied - sent);
          extraMs.push(a.proxied - a.straight);
        }
        await post(server.url, `/tickets/${id}/finish`, w.counter.staffToken);
      }
      return { straight: summarize(straightMs), viaNginx: summarize(proxiedMs), extra: summarize(extraMs) };
    };
    m = meter();
    m.start();
    const { straight, viaNginx, extra } = await timeCalls(calls);
    m.stop();
    const callCpu = m.result();
    ctx.log(`  ${straight.n} of ${calls} calls seen on both displays: straight p50 ${round(straight.p50, 2)} / p99 ${round(straight.p99, 2)} ms, through nginx p50 ${round(viaNginx.p50, 2)} / p99 ${round(viaNginx.p99, 2)} ms`);

    // restarts
    /** each restart: what it was, the storm, the CPU through it, and how many devices resumed their TLS session */
    const storms: [string, Storm, CpuAccount, number][] = [];
    for (const [label, stop, start, replaced] of [
      ['crash restart of the server (SIGKILL), nginx up', () => server.kill(), restartServer, 'server'],
      ['restart of nginx (SIGTERM, then start), the server up', stopProxy, startProxy, 'nginx'],
    ] as const) {
      await sleep(2000);
      m = meter(replaced);
      m.start();
      const s = await measureStorm(proxied, stop, start, stormTimeoutMs);
      m.stop();
      storms.push([label, s, m.result(), proxied.tlsResumed()]);
      const nginxCpu = perDevice(storms.at(-1)![2], 'nginx');
      ctx.log(`  through nginx, ${label}: ${s.fresh}/${proxied.size} fresh ${Number.isFinite(s.totalMs) ? `in ${secs(s.totalMs)} s` : `NOT all within ${stormTimeoutMs / 1000} s`}; ${s.errorsLeft} left in error; ${storms.at(-1)![3]} resumed their TLS session${nginxCpu === '-' ? '' : `; nginx ${nginxCpu} ms of CPU a device`}`);
    }

    // a reload (SIGHUP, what `systemctl reload nginx` sends, and certbot after renewing a
    // certificate): new workers take new connections and the old ones shut down once their own
    // connections end, which a screen's WebSocket does not do by itself
    const workerMb = (ws: NginxWorker[]) => round(pssMb(ws.map((w) => w.pid)), 0);
    const before = nginxWorkers(nginx!.pid!);
    const disconnected = () => [...proxied.clients, ...watchProxied.clients].reduce((n, c) => n + c.disconnects.length, 0);
    const disconnectsBefore = disconnected();
    const nginxMbBefore = round(pssMb(familyPids(nginx!.pid!)), 0);
    process.kill(nginx!.pid!, 'SIGHUP');
    const reloadedAt = now();
    const reloaded = await until(() => {
      const ws = nginxWorkers(nginx!.pid!);
      return ws.filter((w) => !w.old).length >= before.length && ws.some((w) => w.old);
    }, 10_000, 50);
    if (!reloaded) throw new Error(`nginx did not reload: ${JSON.stringify(nginxWorkers(nginx!.pid!))}`);
    const newcomers = await Fleet.connect(base, watched.map((w) => w.site.displays[1]!.token), { concurrency: 50, ca });
    const newcomersFresh = newcomers.ready();
    await newcomers.close();
    const reloadCalls = await timeCalls(Math.ceil(calls / 2));
    await sleep(Math.max(0, 30_000 - (now() - reloadedAt)));
    const held = nginxWorkers(nginx!.pid!);
    const oldHeld = held.filter((w) => w.old);
    const reload = {
      heldS: secs(now() - reloadedAt),
      oldWorkers: oldHeld.length,
      oldSockets: oldHeld.reduce((n, w) => n + w.sockets, 0),
      oldMb: workerMb(oldHeld),
      newMb: workerMb(held.filter((w) => !w.old)),
      nginxMbBefore,
      nginxMb: round(pssMb(familyPids(nginx!.pid!)), 0),
      disconnects: disconnected() - disconnectsBefore,
      newcomersFresh,
      newcomers: watched.length,
      calls: reloadCalls,
      newWorkers: held.filter((w) => !w.old).length,
      /** after a crash of the server that follows (every device reconnecting): the old workers left, and nginx's memory */
      afterCrash: undefined as { oldWorkers: number; nginxMb: number; fresh: number; totalMs: number } | undefined,
    };
    ctx.log(`  reload: ${reload.heldS} s later ${reload.oldWorkers} old workers hold ${reload.oldSockets} sockets and ${reload.oldMb} MB (nginx ${nginxMbBefore} → ${reload.nginxMb} MB), ${reload.disconnects} devices disconnected; ${newcomersFresh}/${watched.length} new connections fresh; calls through the old workers p99 ${round(reloadCalls.viaNginx.p99, 2)} ms against ${round(reloadCalls.straight.p99, 2)} straight`);
    // the devices reconnect (here: the server crashes once more, untimed): do the old workers leave?
    await sleep(2000);
    const last = await measureStorm(proxied, () => server.kill(), restartServer, stormTimeoutMs);
    await until(() => !nginxWorkers(nginx!.pid!).some((w) => w.old), 5000, 50);
    reload.afterCrash = { oldWorkers: nginxWorkers(nginx!.pid!).filter((w) => w.old).length, nginxMb: round(pssMb(familyPids(nginx!.pid!)), 0), fresh: last.fresh, totalMs: last.totalMs };
    ctx.log(`  after the reload, a crash of the server: ${last.fresh}/${proxied.size} fresh in ${secs(last.totalMs)} s; ${reload.afterCrash.oldWorkers} old workers left, nginx ${reload.afterCrash.nginxMb} MB`);

    const errorLog = await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '');
    const alarms = errorLog.split('\n').filter((l) => /\[(alert|emerg|crit)\]|worker_connections are not enough|Too many open files/.test(l));

    const [crash, restart] = storms;
    const met = (s: Storm) => Number.isFinite(s.totalMs) && s.totalMs < 15_000 && s.errorsLeft === 0;
    figures.push(
      { label: `first connection of ${tokens.length} devices through nginx + TLS`, value: secs(proxiedConnectMs), unit: 's', floor: secs(directConnectMs), ratio: round(proxiedConnectMs / directConnectMs, 2) },
      { label: `call → display through nginx + TLS, p99 (${tokens.length} devices)`, value: round(viaNginx.p99, 2), unit: 'ms', floor: round(straight.p99, 2), ratio: round(viaNginx.p99 / straight.p99, 2), target: '≤ 2× straight', met: viaNginx.p99 <= 2 * straight.p99 },
      { label: 'call → display through nginx + TLS, p50', value: round(viaNginx.p50, 2), unit: 'ms', floor: round(straight.p50, 2), ratio: round(viaNginx.p50 / straight.p50, 2) },
      { label: `server crash behind nginx → all ${tokens.length} fresh`, value: secs(crash![1].totalMs), unit: 's', floor: secs(directCrash.totalMs), ratio: round(crash![1].totalMs / directCrash.totalMs, 2), target: '< 15 s, no errors left', met: met(crash![1]) },
      { label: `nginx restart → all ${tokens.length} fresh`, value: secs(restart![1].totalMs), unit: 's', target: '< 15 s, no errors left', met: met(restart![1]) },
      { label: `nginx memory with ${tokens.length} TLS devices`, value: round(nginxMb, 0), unit: 'MB' },
      { label: `nginx memory ${reload.heldS} s after a reload (its old workers still holding the devices)`, value: reload.nginxMb, unit: 'MB', floor: reload.nginxMbBefore, ratio: round(reload.nginxMb / reload.nginxMbBefore, 2) },
      { label: 'devices disconnected by a reload of nginx', value: reload.disconnects, unit: '' },
      { label: `server RSS with ${tokens.length} devices through nginx`, value: proxiedMemory.rss, unit: 'MB', floor: directMemory.rss, ratio: round(proxiedMemory.rss / directMemory.rss, 2) },
    );
    notes.push(
      `${tokens.length} devices (${perSite} a site: ${displays - 2} displays, ${kiosks} kiosks, ${counterDevices} counter terminals) over ${sitesN} sites, in the bench process, WebSocket only, the screens' reconnection (500 ms doubling to 5 s); plus two timed displays a site.`,
      `nginx ${NGINX}: Debian's /etc/nginx/nginx.conf after deploy/nginx/raise-limits.sh with QMS_NGINX_CONNECTIONS=${connections} (its workers' open files ${connections * 2}, under this machine's hard limit of ${hardFiles}), worker_processes as Debian's (auto: one a core); the site deploy/nginx/qms.conf as shipped, on 127.0.0.1:${tlsPort} with a self-signed ECDSA P-256 certificate; started under a soft limit of 1,024 open files as systemd starts it. The server with QMS_TRUST_PROXY=127.0.0.1, as docs/install.md.`,
      `First connection (100 at a time, each waiting for its snapshot): straight ${secs(directConnectMs)} s; through nginx ${secs(proxiedConnectMs)} s (every one a full TLS handshake; ${tlsSessions ? 'each client then keeps its session and resumes it when it reconnects, as a browser does, within the site\'s ssl_session_timeout of a day' : 'with --tls-sessions=off the clients keep no session, and every reconnection is a full handshake too'}). CPU while connecting through nginx: ${describeCpu(connectCpu)}; straight: ${describeCpu(directConnectCpu)}. CPU per device connecting (ms): ${['server', 'nginx', 'PostgreSQL', 'bench process (clients)'].map((g) => `${g} ${perDevice(connectCpu, g)} through nginx, ${perDevice(directConnectCpu, g)} straight`).join('; ')}.`,
      `Memory 3 s after the first connection: nginx ${round(nginxMb, 0)} MB with the ${tokens.length} devices (the proportional set sizes of its ${nginxPids.length} processes); the server ${proxiedMemory.rss} MB RSS through nginx and ${directMemory.rss} MB straight (each a process that took one wave of connections); its heap after a full collection ${proxiedMemory.heapAfterGc} and ${directMemory.heapAfterGc} MB.`,
      `Calls (${calls}, one at a time, over ${watched.length} sites, each issued and finished around it), from sending call-next to ticket:called at the site's display through nginx and at another display of the site connected straight: straight p50 ${round(straight.p50, 2)} / p90 ${round(straight.p90, 2)} / p99 ${round(straight.p99, 2)} ms; through nginx p50 ${round(viaNginx.p50, 2)} / p90 ${round(viaNginx.p90, 2)} / p99 ${round(viaNginx.p99, 2)} ms; nginx's addition per call p50 ${round(extra.p50, 2)} / p99 ${round(extra.p99, 2)} ms (${straight.n} calls seen by both). CPU over the calls: ${describeCpu(callCpu)}.`,
      `Straight to the server (the floor of the server's crash): a crash (SIGKILL) and restart on the same port, all ${tokens.length} fresh in ${secs(directCrash.totalMs)} s (half after ${secs(directCrash.spread.p50)} s), ${directCrash.errorsLeft} left in error, ${Object.values(directCrash.connectErrors).reduce((a, b) => a + b, 0)} failed attempts on the way. For scale, not a floor of nginx's restart (no downtime, no back-off): every device disconnecting and connecting again at once, the server up, all fresh in ${secs(waveMs)} s.`,
      `A reload of nginx after the restarts above (SIGHUP to its master, as \`systemctl reload nginx\` and certbot's renewal do), the devices connected: ${reload.newWorkers} new workers took the new connections (${reload.newcomersFresh} of ${reload.newcomers} displays connecting after it fresh); the old workers kept the devices they had, and ${reload.disconnects} devices disconnected. ${reload.heldS} s after the reload ${reload.oldWorkers} old workers were still shutting down, holding ${reload.oldSockets} sockets (a device is two: its own and nginx's to the server) and ${reload.oldMb} MB, beside the new workers' ${reload.newMb} MB: nginx ${reload.nginxMbBefore} MB before the reload, ${reload.nginxMb} MB after. A WebSocket is never finished by the device, so they stay until the device's connection ends. Calls meanwhile (${reload.calls.straight.n}), through the old workers: p50 ${round(reload.calls.viaNginx.p50, 2)} / p99 ${round(reload.calls.viaNginx.p99, 2)} ms against ${round(reload.calls.straight.p50, 2)} / ${round(reload.calls.straight.p99, 2)} ms straight. ${reload.afterCrash ? `Then the server crashed once more (every device's connection closed by nginx, each device reconnecting to a new worker; ${reload.afterCrash.fresh} fresh in ${secs(reload.afterCrash.totalMs)} s, not timed against anything): ${reload.afterCrash.oldWorkers} old workers left, nginx ${reload.afterCrash.nginxMb} MB.` : ''}`,
      `The restarted process's "up" is when the bench saw its /api/health answer, asked from the bench process, which the devices' TLS handshakes kept busy: not a measure of the server's start.`,
      `Load average (1, 5, 15 min): ${loadBefore} at the start, ${os.loadavg().map((l) => round(l, 2)).join(', ')} at the end.`,
      ...storms.map(([label, s, cpu, resumed]) => `Through nginx, ${label}: ${resumed} of ${proxied.size} devices resumed their TLS session; ${s.fresh} of ${proxied.size} fresh ${Number.isFinite(s.totalMs) ? `in ${secs(s.totalMs)} s from the stop (${secs(s.afterReadyMs)} s after the restarted process was up)` : `(not all within ${stormTimeoutMs / 1000} s)`}${s.spread.n ? `; half after ${secs(s.spread.p50)} s, 90% after ${secs(s.spread.p90)} s` : ''}; ${s.errorsLeft} left in error; disconnect reasons ${JSON.stringify(s.reasons)}; failed attempts on the way ${JSON.stringify(s.connectErrors)}. CPU: ${describeCpu(cpu)}.`),
      alarms.length ? `nginx's error log had ${alarms.length} alerts, e.g. ${alarms.slice(0, 3).join(' | ')}` : 'nginx\'s error log: no alert, no "worker_connections are not enough", no "Too many open files".',
    );
    Object.assign(raw, { devices: tokens.length, sites: sitesN, connections, directConnectMs, waveMs, proxiedConnectMs, reload, connectCpu, directConnectCpu, nginxMb, directMemory, proxiedMemory, straight, viaNginx, extra, callCpu, directCrash, tlsSessions, storms: storms.map(([label, s, cpu, resumed]) => ({ label, ...s, cpu, resumed })), alarms });
  } finally {
    for (const f of fleets) await f.close();
    await stopProxy().catch(() => {});
    await server.stop();
    await db.destroy();
    await rm(dir, { recursive: true, force: true });
  }
  return { name: 'proxy', title: `${TITLE} (${tokens.length} devices)`, figures, notes, raw };
}
