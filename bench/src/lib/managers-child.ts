// Managers pulling reports, in a child process of the bench (benchmarks/reportload.ts): each
// pulls year-long summaries and exports over HTTP, one after the other, reading every byte as a
// browser saves a file. A child of its own, because a manager's browser is not the wall
// display: 170 MB a minute read with fetch in the process that timestamps the displays'
// messages delayed those timestamps (its GC in the system's turns went from 185 to 687 ms).
//   IPC {op:'start', url, token, history, count, exports} -> {}   the managers start pulling
//   IPC {op:'pause'} -> {pulls, activeMs}   they stop once their reports in flight are answered;
//       the pulls since the last pause
import { REPORT_YEAR } from './report-history.ts';
import { now, sleep } from './util.ts';

export interface Pull {
  kind: string;
  ms: number;
  status: number;
  code?: string;
  bytes: number;
}

const SUMMARY_GROUPS = ['service', 'counter', 'staff', 'day', 'hour'] as const;

interface Start {
  url: string;
  token: string;
  history: { siteIds: string[]; busiestSiteId: string };
  count: number;
  exports: boolean;
}

const year = `from=${encodeURIComponent(`${REPORT_YEAR}-01-01T00:00:00+07:00`)}&to=${encodeURIComponent(`${REPORT_YEAR + 1}-01-01T00:00:00+07:00`)}`;

export function managerRequests({ history: h, exports }: Pick<Start, 'history' | 'exports'>): { kind: string; path: string }[] {
  const site = (i: number) => h.siteIds[i % h.siteIds.length]!;
  return [
    ...SUMMARY_GROUPS.map((g) => ({ kind: `summary all sites by ${g}`, path: `/reports/summary?${year}&groupBy=${g}` })),
    ...SUMMARY_GROUPS.map((g, i) => ({ kind: `summary one site by ${g}`, path: `/sites/${site(i)}/reports/summary?${year}&groupBy=${g}` })),
  ].concat(!exports ? [] : [
    { kind: 'tickets.csv busiest site, year', path: `/sites/${h.busiestSiteId}/reports/tickets.csv?${year}` },
    { kind: 'tickets.xlsx one site, year', path: `/sites/${site(1)}/reports/tickets.xlsx?${year}` },
    { kind: 'summary.xlsx all sites by staff', path: `/reports/summary.xlsx?${year}&groupBy=staff` },
    { kind: 'satisfaction.xlsx one site, a quarter', path: `/sites/${site(2)}/reports/satisfaction.xlsx?period=quarter&year=${REPORT_YEAR}&quarter=2` },
  ]);
}

let pulls: Pull[] = [];
let active = false;
let since = 0;
let running: Promise<void>[] = [];
/** where each manager is in the list, kept from one system turn to the next */
let next: number[] = [];

async function manager(m: number, start: Start): Promise<void> {
  const list = managerRequests(start);
  while (active) {
    const r = list[next[m]!++ % list.length]!;
    const t0 = now();
    let status = 0;
    let code: string | undefined;
    let bytes = 0;
    let retryAfter = 0;
    try {
      const res = await fetch(`${start.url}/api/v1${r.path}`, { headers: { authorization: `Bearer ${start.token}` } });
      status = res.status;
      if (status === 200) {
        // read the whole file as a browser saves it
        const reader = res.body!.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          bytes += value.length;
        }
      } else {
        const body = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
        code = body.error?.code;
        retryAfter = Number(res.headers.get('retry-after') ?? 0);
      }
    } catch (error) {
      code = `network: ${(error as Error).message}`;
    }
    pulls.push({ kind: r.kind, ms: now() - t0, status, ...(code ? { code } : {}), bytes });
    // a console told "busy" waits as told (at most 2 s here, to keep the pressure on)
    if (retryAfter) await sleep(Math.min(2_000, retryAfter * 1000));
  }
}

process.on('message', async (m: { id: string; op: string } & Partial<Start>) => {
  try {
    if (m.op === 'start') {
      const start = m as unknown as Start;
      if (next.length !== start.count) next = Array.from({ length: start.count }, (_, i) => i * 3);
      active = true;
      since = now();
      running = Array.from({ length: start.count }, (_, i) => manager(i, start));
      process.send!({ id: m.id });
    } else if (m.op === 'pause') {
      active = false;
      const activeMs = now() - since;
      await Promise.all(running);
      const done = pulls;
      pulls = [];
      process.send!({ id: m.id, pulls: done, activeMs });
    } else {
      process.send!({ id: m.id, error: `unknown op ${m.op}` });
    }
  } catch (error) {
    process.send!({ id: m.id, error: String(error) });
  }
});
process.on('disconnect', () => process.exit(0));
