import pg from 'pg';

// What PostgreSQL was doing, sampled: the client backends running a statement and what each
// waits on (WAL flush, a lock, I/O, or nothing: on the CPU), those idle inside a transaction
// (waiting for the application: its event loop or the network), the queue server's own
// connections told apart ("server:" - application_name qms-server, the pool of 20; "reports:" its
// reports' pool; "facts:" its report facts' builder; "floor:" the floor server's; "client:" any
// other, the bench's own among them), and the background processes
// (checkpointer, WAL writer, background writer) when they are not asleep. One small query
// every `everyMs` on a connection of its own, during the floor and the system alike.

export interface PgSample {
  at: number;
  /** "client:WALSync", "client:cpu", "checkpointer:DataFileSync"... → how many */
  waits: Record<string, number>;
  /** WAL inserted since the cluster began, in bytes (exact: the insert position) */
  walBytes?: number;
  /** temporary files' bytes written since the statistics' reset (as the backends report them: at a file's close) */
  tempBytes?: number;
}

// wait events of background processes that only mean "asleep, nothing to do" (names vary by version)
const SLEEPING = '(Main|Hibernate|WalSummarizerWal)$';

export function samplePg(url: string, everyMs = 100): { stop(): Promise<PgSample[]> } {
  const samples: PgSample[] = [];
  const client = new pg.Client({ connectionString: url, application_name: 'qms-bench-pg-waits' });
  let running = true;
  const loop = (async () => {
    await client.connect();
    while (running) {
      const at = Date.now();
      const { rows } = await client.query<{ k: string; n: number }>(`
        SELECT CASE WHEN backend_type = 'client backend'
                    THEN CASE application_name WHEN 'qms-server' THEN 'server' WHEN 'qms-reports' THEN 'reports' WHEN 'qms-bench-floor' THEN 'floor'
                              WHEN 'qms-report-facts' THEN 'facts' ELSE 'client' END
                         || CASE WHEN state = 'idle in transaction' THEN ' idle in tx' ELSE '' END
                    ELSE backend_type END
               || ':' || CASE WHEN state = 'idle in transaction' THEN 'waiting for the app'
                              ELSE coalesce(wait_event, 'cpu') END AS k, count(*)::int AS n
        FROM pg_stat_activity
        WHERE pid <> pg_backend_pid()
          AND ((backend_type = 'client backend' AND state IN ('active', 'idle in transaction'))
               OR (backend_type <> 'client backend' AND coalesce(wait_event, '') !~* $1))
        GROUP BY 1`, [SLEEPING]);
      const { rows: [io] } = await client.query<{ wal: string; temp: string | null }>(
        `SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn AS wal, (SELECT sum(temp_bytes) FROM pg_stat_database) AS temp`);
      samples.push({ at, waits: Object.fromEntries(rows.map((r) => [r.k, r.n])), walBytes: Number(io!.wal), tempBytes: Number(io!.temp ?? 0) });
      await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (Date.now() - at))));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop.catch(() => {});
      await client.end().catch(() => {});
      return samples;
    },
  };
}

/** How often each wait was seen in [from, to], most frequent first ("client:WALSync ×3"). */
export function waitsIn(samples: PgSample[], from: number, to: number, top = 4): string {
  return waitsWithin(samples, [{ from, to }], top);
}

/** How often each wait was seen within the spans (each [from, to]), most frequent first. */
export function waitsWithin(samples: PgSample[], spans: { from: number; to: number }[], top = 4): string {
  const counts = new Map<string, number>();
  let n = 0;
  for (const s of samples) {
    if (!spans.some((x) => s.at >= x.from && s.at <= x.to)) continue;
    n++;
    for (const [k, v] of Object.entries(s.waits)) counts.set(k, (counts.get(k) ?? 0) + v);
  }
  if (!n) return 'no sample';
  const list = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => `${k} ×${v}`);
  return `${n} samples: ${list.length ? list.join(', ') : 'nothing active'}`;
}

/**
 * How much a cumulative figure of the samples (WAL inserted, temporary bytes) grew within the
 * spans: each rise between two samples counts for the span the later one fell in.
 */
export function growthIn(samples: PgSample[], spans: { from: number; to: number }[], key: 'walBytes' | 'tempBytes'): number {
  let sum = 0;
  for (let i = 1; i < samples.length; i++) {
    const [a, b] = [samples[i - 1]![key], samples[i]![key]];
    if (a === undefined || b === undefined || b <= a) continue;
    if (spans.some((x) => samples[i]!.at > x.from && samples[i]!.at <= x.to)) sum += b - a;
  }
  return sum;
}

/** The most connections of the queue server busy at once (active or idle in a transaction). */
export function serverBusyMax(samples: PgSample[]): number {
  return samples.reduce((m, s) => Math.max(m, Object.entries(s.waits).filter(([k]) => k.startsWith('server')).reduce((a, [, v]) => a + v, 0)), 0);
}

/** Share of samples in which something matching `re` was seen (e.g. the checkpointer busy). */
export function shareWith(samples: PgSample[], re: RegExp): number {
  if (!samples.length) return Number.NaN;
  return samples.filter((s) => Object.keys(s.waits).some((k) => re.test(k))).length / samples.length;
}

/** Checkpoints PostgreSQL has made since it started (PostgreSQL 17 moved them to pg_stat_checkpointer). */
export async function checkpointCount(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    try {
      return Number((await client.query('SELECT num_timed + num_requested AS n FROM pg_stat_checkpointer')).rows[0].n);
    } catch {
      return Number((await client.query('SELECT checkpoints_timed + checkpoints_req AS n FROM pg_stat_bgwriter')).rows[0].n);
    }
  } finally {
    await client.end();
  }
}
