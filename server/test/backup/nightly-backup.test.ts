import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupDatabase, readBackupHeader } from '@qms/db';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { buildApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { QueueService } from '../../src/queue/queue.service.ts';
import { createSite, TestClock } from '../support/queue-fixture.ts';

// QMS_BACKUP_DIR: a backup every night at QMS_BACKUP_AT (server-local time), the newest
// QMS_BACKUP_KEEP kept, taken by one process of a cluster. On the app's clock.

const TZ = 'Asia/Ho_Chi_Minh';
let t: TestDatabase;
let dir: string;
const apps: App[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'qms-nightly-'));
  const site = await createSite(t.db);
  const queue = new QueueService({ db: t.db, clock: new TestClock('2026-12-04T03:00:00Z').now });
  for (let i = 0; i < 3; i++) await queue.issue({ siteId: site.siteId, serviceId: site.service.HT! });
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await t?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function app(clock: TestClock): Promise<App> {
  const a = await buildApp({
    db: t.db, serveUi: false, clock: clock.now, databaseUrl: t.url, backupTimeZone: TZ, dayEndCheckMs: 3_600_000,
    config: { backupDir: dir, backupKeep: 3, backupAt: '02:00' },
  });
  apps.push(a);
  await a.ready();
  return a;
}

const listing = async () => (await readdir(dir)).sort();

describe('nightly backup', () => {
  it('takes one backup at 02:00 local time, then keeps the newest QMS_BACKUP_KEEP of its own files', async () => {
    // four earlier nights (02:00 in Hà Nội is 19:00 UTC the day before), and files it must leave alone
    const sample = path.join(dir, 'sample.tmp');
    await backupDatabase(t.url, sample);
    const earlier = ['20261130T190000Z', '20261201T190000Z', '20261202T190000Z', '20261203T190000Z'].map((s) => `qms-${s}.qmsbackup`);
    for (const name of earlier) await copyFile(sample, path.join(dir, name));
    await rm(sample);
    await writeFile(path.join(dir, 'before-2026-12-04T20-20-00_x-20261101T000000Z.qmsbackup'), 'kept');
    await writeFile(path.join(dir, 'qms-manual.qmsbackup'), 'kept');

    // Saturday 5 Dec, 01:59 local: last night's (4 Dec 02:00) is there
    const clock = new TestClock('2026-12-04T18:59:00Z');
    const a = await app(clock);
    expect(await a.nightlyBackup!.tick()).toEqual({ skipped: 'not-due' });
    expect((await listing()).filter((f) => f.startsWith('qms-2'))).toEqual(earlier);

    clock.set('2026-12-04T19:00:30Z'); // 02:00:30
    const outcome = await a.nightlyBackup!.tick();
    expect(outcome).toMatchObject({ made: { file: path.join(dir, 'qms-20261204T190030Z.qmsbackup') }, deleted: [earlier[0], earlier[1]] });
    expect(await listing()).toEqual([
      'before-2026-12-04T20-20-00_x-20261101T000000Z.qmsbackup', 'qms-20261202T190000Z.qmsbackup', 'qms-20261203T190000Z.qmsbackup',
      'qms-20261204T190030Z.qmsbackup', 'qms-manual.qmsbackup',
    ]);
    const header = await readBackupHeader(path.join(dir, 'qms-20261204T190030Z.qmsbackup'));
    expect(header.tables.map((x) => x.name)).toContain('ticket');
    expect((outcome as { made: { rows: Record<string, number> } }).made.rows.ticket).toBe(3);

    // once a night
    clock.set('2026-12-05T16:00:00Z'); // 23:00
    expect(await a.nightlyBackup!.tick()).toEqual({ skipped: 'not-due' });
  });

  it('two processes of a cluster at the same hour: one backup', async () => {
    // their clocks a second apart, as two machines' are
    const clocks = [new TestClock('2026-12-05T18:00:00Z'), new TestClock('2026-12-05T18:00:00Z')];
    const [one, two] = [await app(clocks[0]!), await app(clocks[1]!)];
    clocks[0]!.set('2026-12-05T19:00:01Z');
    clocks[1]!.set('2026-12-05T19:00:02Z');
    const outcomes = await Promise.all([one.nightlyBackup!.tick(), two.nightlyBackup!.tick()]);
    expect(outcomes.filter((o) => 'made' in o)).toHaveLength(1);
    expect(outcomes.filter((o) => 'skipped' in o && o.skipped === 'taken-elsewhere')).toHaveLength(1);
    expect((await listing()).filter((f) => /^qms-2026120[56]/.test(f))).toHaveLength(1);
  });

  it('reads its settings from the environment, and is off without QMS_BACKUP_DIR', async () => {
    expect(loadConfig({ QMS_BACKUP_DIR: 'backups', QMS_BACKUP_KEEP: '7', QMS_BACKUP_AT: '3:30' })).toMatchObject({
      backupDir: path.resolve('backups'), backupKeep: 7, backupAt: '03:30',
    });
    expect(loadConfig({})).toMatchObject({ backupDir: undefined, backupKeep: 14, backupAt: '02:00' });
    expect(() => loadConfig({ QMS_BACKUP_AT: '25:00' })).toThrow(/QMS_BACKUP_AT must be a time of day HH:MM/);
    expect(() => loadConfig({ QMS_BACKUP_KEEP: '0' })).toThrow(/QMS_BACKUP_KEEP must be a whole number of at least 1/);
    const off = await buildApp({ db: t.db, serveUi: false, databaseUrl: t.url, config: { backupDir: undefined } });
    apps.push(off);
    expect(off.nightlyBackup).toBeUndefined();
  });
});
