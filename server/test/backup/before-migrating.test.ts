import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { backupBeforeMigrating, createDb, migrateTo, migrateToLatest, migrationNames, migrator, openDatabase, readBackupHeader, type OpenedDatabase } from '@qms/db';

// Before the server migrates a non-empty embedded database, it backs it up into
// <QMS_DATA_DIR>/backups/; when that fails it does not migrate, and says why (server/src/main.ts).

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
let dataDir: string;
let opened: OpenedDatabase | undefined;
afterAll(async () => {
  await opened?.embedded?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** npm start (server/src/main.ts) on the data folder, until it listens or exits. */
function start(): Promise<{ code: number | null; out: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'DATABASE_URL')) as Record<string, string>;
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    cwd: root, env: { ...env, QMS_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', QMS_DEMO: '0', QMS_ADMIN_PASSWORD: 'admin-password-1' },
  });
  let out = '';
  const read = (d: Buffer) => {
    out += d;
    if (out.includes('Queue management system is running')) child.kill('SIGTERM');
  };
  child.stdout.on('data', read);
  child.stderr.on('data', read);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

const pending = async (url: string) => {
  const db = createDb(url, { max: 1 });
  try {
    return (await migrator(db).getMigrations()).filter((m) => !m.executedAt).map((m) => m.name);
  } finally {
    await db.destroy();
  }
};

describe('a backup before migrating the embedded database', () => {
  it('is taken when the database has data and migrations are pending; a failed one stops the start', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'qms-upgrade-'));
    await chmod(dataDir, 0o755); // PostgreSQL runs as user "postgres" when we are root
    process.env.QMS_DATA_DIR = dataDir;
    delete process.env.DATABASE_URL;
    opened = await openDatabase();
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);

    // a new, empty database: nothing to keep
    expect(await backupBeforeMigrating(opened, { log })).toBeUndefined();
    // as the release before the last two migrations left it, with data
    const db = createDb(opened.url, { max: 1 });
    await migrateTo(db, migrationNames.at(-3)!);
    await db.insertInto('site').values({ code: 'CU', name: 'Trung tâm', timezone: 'Asia/Ho_Chi_Minh', level: 'commune', priorityRatio: null }).execute();
    const file = await backupBeforeMigrating(opened, { log, now: new Date('2026-12-05T02:00:00Z') });
    expect(file).toBe(path.join(dataDir, 'backups', `before-${migrationNames.at(-2)}-20261205T020000Z.qmsbackup`));
    expect(lines.at(-1)).toContain(`Backed up the database before migrating it (${migrationNames.slice(-2).join(', ')}): ${file}`);
    expect((await readBackupHeader(file!)).migrations).toEqual(migrationNames.slice(0, -2));

    // nothing pending: nothing taken
    await migrateToLatest(db);
    expect(await backupBeforeMigrating(opened, { log })).toBeUndefined();
    expect(await readdir(path.join(dataDir, 'backups'))).toHaveLength(1);

    // the backup cannot be written (backups/ is a file): the server does not migrate, and says why
    await migrateTo(db, migrationNames.at(-2)!);
    await db.destroy();
    await opened.embedded!.stop();
    await rm(path.join(dataDir, 'backups'), { recursive: true });
    await writeFile(path.join(dataDir, 'backups'), 'in the way');
    const refused = await start();
    expect(refused.out).toMatch(new RegExp(`Could not back up the database before migrating it to ${migrationNames.at(-1)} \\(.*\\), so it was not migrated: free space in ${path.join(dataDir, 'backups')}`));
    expect(refused.out).not.toContain('    at '); // a sentence, not a stack trace
    expect(refused.code).toBe(1);

    // with room for it, the server backs up, migrates and runs
    await rm(path.join(dataDir, 'backups'));
    const started = await start();
    expect(started.out).toMatch(new RegExp(`Backed up the database before migrating it \\(${migrationNames.at(-1)}\\): ${path.join(dataDir, 'backups', `before-${migrationNames.at(-1)}-`)}\\d{8}T\\d{6}Z\\.qmsbackup`));
    expect(started.out).toContain('Queue management system is running');
    opened = await openDatabase();
    expect(await pending(opened.url)).toEqual([]);
  }, 60_000);
});
