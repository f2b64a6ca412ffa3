import { createDb, type Db } from '@qms/db';
import { sql } from 'kysely';
import { fillFloorTable, prepareFloorTable, startFloorServer } from '../floor/floor.ts';
import { post, request } from '../lib/http.ts';
import { seedLoad, type LoadSite } from '../lib/load-setup.ts';
import { startNullPrinters, type NullPrinters } from '../lib/null-printer.ts';
import { startQmsServer, type QmsServer } from '../lib/processes.ts';
import type { BenchContext, BenchResult, Figure } from '../lib/result.ts';
import { Fleet } from '../lib/sockets.ts';
import { round, summarize } from '../lib/stats.ts';
import { now } from '../lib/util.ts';

// b. Throughput over HTTP, closed loop (C clients, each sends its next request when the last
// one answered), for a fixed time:
//  - issue: kiosks POST /sites/:id/tickets; each kiosk has a network printer (a null printer
//    on 127.0.0.1 that answers status requests and discards the job), so the server renders
//    and encodes every ticket as in production; a second run with kiosks without printers;
//  - call: each client works one counter: call-next, then finish, again (calls per second).
// Single process, then two processes with the PostgreSQL adapter (clients alternate between
// them, displays connected to both). Floor: a bare node:http + pg server doing one INSERT per
// issue and one UPDATE ... SKIP LOCKED per call (+ one UPDATE per finish), same clients.

interface Phase {
  ok: number;
  other: Record<string, number>;
  seconds: number;
  perSecond: number;
  latency: ReturnType<typeof summarize>;
}

async function closedLoop(clients: number, seconds: number, op: (client: number) => Promise<string>): Promise<Phase> {
  const other: Record<string, number> = {};
  const times: number[] = [];
  let ok = 0;
  const t0 = now();
  const end = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    while (now() < end) {
      const started = now();
      let outcome: string;
      try {
        outcome = await op(c);
      } catch (error) {
        outcome = `error ${(error as Error).name}`;
      }
      if (outcome === 'ok') {
        ok++;
        times.push(now() - started);
      } else {
        other[outcome] = (other[outcome] ?? 0) + 1;
        if (outcome === 'empty') return;
      }
    }
  }));
  const elapsed = (now() - t0) / 1000;
  return { ok, other, seconds: elapsed, perSecond: ok / elapsed, latency: summarize(times) };
}

/** Waiting tickets straight into the table, so call runs never run dry (numbers far above the issued ones). */
async function topUp(db: Db, sites: LoadSite[], perService: number) {
  for (const site of sites) {
    await sql`
      INSERT INTO ticket (public_id, site_id, issued_service_id, service_id, local_date, number, code, status, priority, lang, channel, issued_at, queued_at)
      SELECT md5(random()::text || s.id::text || g), ${site.siteId}, s.id, s.id, (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date,
             100000 + g, 'Z' || g, 'waiting', 'none', 'vi', 'kiosk', now(), now()
      FROM unnest(${site.services}::uuid[]) AS s(id), generate_series(1, ${perService}) AS g
      ON CONFLICT DO NOTHING`.execute(db);
  }
  await sql`ANALYZE ticket`.execute(db);
}

export async function throughputBench(ctx: BenchContext): Promise<BenchResult> {
  const sitesN = ctx.num('sites', 20, 5);
  const clients = ctx.num('concurrency', 24, 16);
  const seconds = ctx.num('duration', 20, 8);
  const printedKiosks = 5;
  const notes: string[] = [];
  const figures: Figure[] = [];
  const raw: Record<string, unknown> = {};
  const printers: NullPrinters = await startNullPrinters(sitesN * printedKiosks);
  const topUpPerService = Math.ceil((400 * seconds) / sitesN / 5);

  const setup = async (name: string) => {
    const url = await ctx.database(name);
    const db = createDb(url, { max: 4 });
    const sites = await seedLoad(db, {
      sites: sitesN, countersPerSite: Math.max(10, Math.ceil(clients / sitesN) * 2), displaysPerSite: 2, kiosksPerSite: printedKiosks * 2,
      openCounters: true,
      kioskPrinter: (s, k) => (k < printedKiosks ? { host: '127.0.0.1', port: printers.ports[s * printedKiosks + k]! } : null),
    });
    return { url, db, sites };
  };

  const issueOp = (servers: { url: string }[], sites: LoadSite[], printed: boolean, prints: Record<string, number>) => {
    let n = 0;
    return async (c: number) => {
      const i = n++;
      const site = sites[i % sites.length]!;
      const k = (Math.floor(i / sites.length) % printedKiosks) + (printed ? 0 : printedKiosks);
      const r = await post(servers[c % servers.length]!.url, `/sites/${site.siteId}/tickets`, site.kiosks[k]!.token, { serviceId: site.services[i % site.services.length] });
      if (r.status !== 201) return `issue ${r.status}`;
      const p = r.body.print ? `${r.body.print.status}${r.body.print.reason ? ` (${r.body.print.reason})` : ''}` : 'none';
      prints[p] = (prints[p] ?? 0) + 1;
      return 'ok';
    };
  };
  const callOp = (servers: { url: string }[], sites: LoadSite[]) => async (c: number) => {
    const site = sites[c % sites.length]!;
    const counter = site.counters[Math.floor(c / sites.length)]!;
    const base = servers[c % servers.length]!.url;
    const r = await post(base, `/counters/${counter.id}/call-next`, counter.staffToken);
    if (r.status === 204) return 'empty';
    if (r.status !== 200) return `call-next ${r.status}`;
    const f = await post(base, `/tickets/${r.body.ticket.id}/finish`, counter.staffToken);
    return f.status === 200 ? 'ok' : `finish ${f.status}`;
  };

  const run = async (label: string, servers: QmsServer[], sites: LoadSite[], db: Db) => {
    const displays = await Fleet.connect((i) => servers[i % servers.length]!.url, sites.flatMap((s) => s.displays.map((d) => d.token)));
    try {
      const prints: Record<string, number> = {};
      const jobsBefore = printers.jobs();
      ctx.log(`  ${label}: issue with printing, ${clients} clients, ${seconds} s`);
      const issuePrinted = await closedLoop(clients, seconds, issueOp(servers, sites, true, prints));
      const jobs = printers.jobs() - jobsBefore;
      ctx.log(`  ${label}: issue without printer, ${clients} clients, ${Math.ceil(seconds / 2)} s`);
      const issuePlain = await closedLoop(clients, Math.ceil(seconds / 2), issueOp(servers, sites, false, {}));
      await topUp(db, sites, topUpPerService);
      ctx.log(`  ${label}: call-next + finish, ${clients} counters, ${seconds} s`);
      const calls = await closedLoop(clients, seconds, callOp(servers, sites));
      return { issuePrinted, issuePlain, calls, prints, jobs, displaysReady: displays.ready() };
    } finally {
      await displays.close();
    }
  };

  try {
    // ---- floor ----
    const f = await setup('throughput_floor');
    await prepareFloorTable(f.url);
    await fillFloorTable(f.url, f.sites, topUpPerService);
    const floor = await startFloorServer(f.url);
    let floorIssue: Phase;
    let floorCall: Phase;
    try {
      ctx.log(`  floor: bare INSERT per request, ${clients} clients, ${seconds} s`);
      let n = 0;
      floorIssue = await closedLoop(clients, seconds, async () => {
        const i = n++;
        const site = f.sites[i % f.sites.length]!;
        const r = await request(floor.url, 'POST', '/issue', undefined, { siteId: site.siteId, serviceId: site.services[i % site.services.length] });
        return r.status === 200 ? 'ok' : `issue ${r.status}`;
      });
      ctx.log(`  floor: bare UPDATE ... SKIP LOCKED + UPDATE per call, ${clients} clients, ${seconds} s`);
      floorCall = await closedLoop(clients, seconds, async (c) => {
        const site = f.sites[c % f.sites.length]!;
        const counter = site.counters[Math.floor(c / f.sites.length)]!;
        const r = await request(floor.url, 'POST', '/call', undefined, { serviceIds: counter.serviceIds, counterId: counter.id });
        if (r.status === 204) return 'empty';
        if (r.status !== 200) return `call ${r.status}`;
        const fin = await request(floor.url, 'POST', '/finish', undefined, { ticketId: r.body.id });
        return fin.status === 200 ? 'ok' : `finish ${fin.status}`;
      });
    } finally {
      await floor.stop();
      await f.db.destroy();
    }

    // ---- one process ----
    const one = await setup('throughput_one');
    const server = await startQmsServer({ databaseUrl: one.url });
    let single;
    try {
      single = await run('1 process', [server], one.sites, one.db);
    } finally {
      await server.stop();
      await one.db.destroy();
    }

    // ---- two processes, PostgreSQL adapter ----
    const two = await setup('throughput_two');
    const pair = [await startQmsServer({ databaseUrl: two.url, cluster: true }), await startQmsServer({ databaseUrl: two.url, cluster: true })];
    let double;
    try {
      double = await run('2 processes', pair, two.sites, two.db);
    } finally {
      await Promise.all(pair.map((s) => s.stop()));
      await two.db.destroy();
    }

    const ratio = (v: number, fl: number) => round(v / fl, 2);
    figures.push(
      { label: 'issue with printing, 1 process', value: round(single.issuePrinted.perSecond, 1), unit: '/s', floor: round(floorIssue.perSecond, 1), ratio: ratio(single.issuePrinted.perSecond, floorIssue.perSecond) },
      { label: 'issue with printing, 2 processes', value: round(double.issuePrinted.perSecond, 1), unit: '/s', floor: round(floorIssue.perSecond, 1), ratio: ratio(double.issuePrinted.perSecond, floorIssue.perSecond) },
      { label: 'issue without printer, 1 process', value: round(single.issuePlain.perSecond, 1), unit: '/s', floor: round(floorIssue.perSecond, 1), ratio: ratio(single.issuePlain.perSecond, floorIssue.perSecond) },
      { label: 'issue without printer, 2 processes', value: round(double.issuePlain.perSecond, 1), unit: '/s', floor: round(floorIssue.perSecond, 1), ratio: ratio(double.issuePlain.perSecond, floorIssue.perSecond) },
      { label: 'calls (call-next + finish), 1 process', value: round(single.calls.perSecond, 1), unit: '/s', floor: round(floorCall.perSecond, 1), ratio: ratio(single.calls.perSecond, floorCall.perSecond) },
      { label: 'calls (call-next + finish), 2 processes', value: round(double.calls.perSecond, 1), unit: '/s', floor: round(floorCall.perSecond, 1), ratio: ratio(double.calls.perSecond, floorCall.perSecond) },
    );
    const describe = (name: string, r: typeof single) =>
      `${name}: issue with printing p50 ${round(r.issuePrinted.latency.p50, 1)} ms / p99 ${round(r.issuePrinted.latency.p99, 1)} ms (print outcomes ${JSON.stringify(r.prints)}, ${r.jobs} jobs reached the null printers${Object.keys(r.issuePrinted.other).length ? `, other replies ${JSON.stringify(r.issuePrinted.other)}` : ''}); ` +
      `issue without printer p50 ${round(r.issuePlain.latency.p50, 1)} ms / p99 ${round(r.issuePlain.latency.p99, 1)} ms; ` +
      `call cycle p50 ${round(r.calls.latency.p50, 1)} ms / p99 ${round(r.calls.latency.p99, 1)} ms${Object.keys(r.calls.other).length ? ` (other outcomes ${JSON.stringify(r.calls.other)})` : ''}; ${r.displaysReady} displays connected.`;
    notes.push(
      `${clients} concurrent HTTP clients (closed loop), ${seconds} s per issue-with-printing and call run, ${Math.ceil(seconds / 2)} s without printer; ${sitesN} sites, ${sitesN * printedKiosks} kiosks with a null network printer each on 127.0.0.1; every server on the same embedded PostgreSQL (fsync on), the clients in the bench process, all on the same ${2} shared cores.`,
      'Ratios are value ÷ floor: the share of the bare server\'s throughput the system reaches (higher is better; the floor does one statement per request and nothing else).',
      `Scaling from 1 to 2 processes: issue with printing ×${round(double.issuePrinted.perSecond / single.issuePrinted.perSecond, 2)}, without printer ×${round(double.issuePlain.perSecond / single.issuePlain.perSecond, 2)}, calls ×${round(double.calls.perSecond / single.calls.perSecond, 2)}.`,
      describe('1 process', single),
      describe('2 processes', double),
      `Floor: INSERT p50 ${round(floorIssue.latency.p50, 1)} ms / p99 ${round(floorIssue.latency.p99, 1)} ms; call cycle p50 ${round(floorCall.latency.p50, 1)} ms / p99 ${round(floorCall.latency.p99, 1)} ms.`,
    );
    Object.assign(raw, { single, double, floorIssue, floorCall });
  } finally {
    await printers.close();
  }
  return { name: 'throughput', title: 'Issue and call throughput (HTTP)', figures, notes, raw };
}
