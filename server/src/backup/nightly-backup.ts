// The nightly backup (QMS_BACKUP_DIR): one backup a night at QMS_BACKUP_AT, server-local time,
// kept QMS_BACKUP_KEEP deep. A server that was off at that hour takes it at its next start.
// Every process of a cluster runs this; one PostgreSQL advisory lock makes one of them take it.
import { readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { BACKUP_EXTENSION, timestampForFile, type BackupSummary, type Db } from '@qms/db';
import { localDate, zonedInstant } from '@qms/protocol/calendar';
import { serialRunner } from '../serial-runner.ts';

/** Our own files only: a copy an operator puts beside them, or a `before-…` one, is never deleted. */
const NIGHTLY = new RegExp(`^qms-(\\d{8}T\\d{6}Z)${BACKUP_EXTENSION.replace('.', '\\.')}$`);
/** pg_try_advisory_lock's key of the nightly backup, the same in every process of a cluster */
const LOCK_KEY = 7_160_316_801;
/** after a failed backup (disk full, database down), the next attempt waits this long */
const RETRY_MS = 15 * 60_000;

export interface NightlyBackupOptions {
  db: Db;
  dir: string;
  /** how many nightly backups to keep */
  keep: number;
  /** 'HH:MM' in `timeZone` */
  at: string;
  timeZone: string;
  clock: () => Date;
  /** how often to look whether the night's backup is due (ms) */
  checkMs: number;
  backup: (file: string) => Promise<BackupSummary>;
  log: { info(data: object, message: string): void; warn(data: object, message: string): void };
}

export type NightlyOutcome =
  | { made: BackupSummary; deleted: string[] }
  | { skipped: 'not-due' | 'taken-elsewhere' | 'failed-recently' }
  | { failed: string };

export interface NightlyBackupRunner {
  /** looks now and then every `checkMs` */
  start(): void;
  /** takes the night's backup if it is due and nobody took it */
  tick(): Promise<NightlyOutcome>;
  stop(): Promise<void>;
}

/** From 'yyyy-MM-dd', the day before. */
const dayBefore = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

/** The latest instant at or before `now` at which a nightly backup was due. */
export function lastDue(now: Date, at: string, timeZone: string): Date {
  const today = localDate(now, timeZone);
  const due = zonedInstant(today, at, timeZone);
  return due <= now ? due : zonedInstant(dayBefore(today), at, timeZone);
}

/** The nightly backups in `dir`, oldest first, with the instants their names carry. */
async function nightlies(dir: string): Promise<{ name: string; at: Date }[]> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  return names.flatMap((name) => {
    const m = NIGHTLY.exec(name);
    if (!m) return [];
    const s = m[1]!;
    return [{ name, at: new Date(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`) }];
  }).sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** Runs `fn` holding the cluster's nightly-backup lock; undefined when another process holds it. */
async function exclusively<T>(db: Db, fn: () => Promise<T>): Promise<T | undefined> {
  return db.connection().execute(async (conn) => {
    const { rows } = await sql<{ got: boolean }>`SELECT pg_try_advisory_lock(${LOCK_KEY}::bigint) AS got`.execute(conn);
    if (!rows[0]?.got) return undefined;
    try {
      return await fn();
    } finally {
      await sql`SELECT pg_advisory_unlock(${LOCK_KEY}::bigint)`.execute(conn);
    }
  });
}

export function nightlyBackupRunner(options: NightlyBackupOptions): NightlyBackupRunner {
  const { dir, log } = options;
  let failedAt: number | undefined;
  const due = async (now: Date) => {
    const since = lastDue(now, options.at, options.timeZone);
    return !(await nightlies(dir)).some((b) => b.at >= since);
  };

  const take = async (): Promise<NightlyOutcome> => {
    const now = options.clock();
    if (failedAt !== undefined && now.getTime() - failedAt < RETRY_MS) return { skipped: 'failed-recently' };
    if (!(await due(now))) return { skipped: 'not-due' };
    const file = path.join(dir, `qms-${timestampForFile(now)}${BACKUP_EXTENSION}`);
    try {
      const made = await exclusively(options.db, async () => {
        // another process may have finished it between our look and the lock
        if (!(await due(now))) return undefined;
        return options.backup(file);
      });
      if (!made) return { skipped: 'taken-elsewhere' };
      failedAt = undefined;
      const all = await nightlies(dir);
      const deleted = all.slice(0, Math.max(0, all.length - options.keep)).map((b) => b.name);
      for (const name of deleted) await unlink(path.join(dir, name));
      log.info({ file, bytes: made.bytes, ms: made.ms, kept: all.length - deleted.length, deleted }, 'nightly backup written');
      return { made, deleted };
    } catch (error) {
      failedAt = now.getTime();
      // the error's message only: it names files and PostgreSQL's reason, never rows
      log.warn({ dir, error: (error as Error).message }, 'nightly backup failed; trying again in 15 minutes');
      return { failed: (error as Error).message };
    }
  };

  // one at a time; a tick asked for during another waits for it (take() reports its own failures)
  const runner = serialRunner(take, options.checkMs, () => {});
  return { start: runner.start, tick: runner.run, stop: runner.stop };
}
