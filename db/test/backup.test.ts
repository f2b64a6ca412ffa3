import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupDatabase, restoreDatabase, BackupError } from '../src/index.ts';
import { migrationNames } from '../src/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

// What a restore refuses, with a sentence: a database that holds data, a file that is not a
// backup, one cut short, one of a newer release. A backup of this database round-trips into a
// migrated empty one (the migrations of the backup's, here the same).

let source: TestDatabase;
let target: TestDatabase;
let dir: string;
let file: string;

beforeAll(async () => {
  [source, target] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  dir = await mkdtemp(path.join(tmpdir(), 'qms-backup-format-'));
  await source.db.insertInto('site').values({ code: 'CU', name: 'Trung tâm "Đông" \\ tab\there\nline', timezone: 'Asia/Ho_Chi_Minh', level: 'commune', priorityRatio: null }).execute();
  file = path.join(dir, 'a.qmsbackup');
  await backupDatabase(source.url, file);
});
afterAll(async () => {
  await source?.drop();
  await target?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const variant = async (name: string, text: (plain: string) => string, gzip = true) => {
  const out = path.join(dir, name);
  const plain = text(gunzipSync(await readFile(file)).toString('utf8'));
  await writeFile(out, gzip ? gzipSync(plain) : plain);
  return out;
};

/** the newest migration this code knows: a backup made now ends with it */
const LAST = migrationNames.at(-1)!;

describe('restore', () => {
  it('refuses what it cannot restore, naming why, and changes nothing', async () => {
    await expect(restoreDatabase(target.url, await variant('plain.txt', (p) => p, false))).rejects.toThrow(/is not a backup of this system/);
    await expect(restoreDatabase(target.url, await variant('cut.qmsbackup', (p) => p.slice(0, p.indexOf('table site') + 20)))).rejects.toThrow(/cut short: the backup is incomplete/);
    await expect(restoreDatabase(target.url, await variant('v2.qmsbackup', (p) => p.replace('QMS-BACKUP 1', 'QMS-BACKUP 2')))).rejects.toThrow(/in format 2; this release reads format 1/);
    await expect(restoreDatabase(target.url, await variant('newer.qmsbackup', (p) => p.replace(`"${LAST}"]`, `"${LAST}","2099-01-01T00-00-00_future"]`))))
      .rejects.toThrow(/made by a newer release \(its migration 2099-01-01T00-00-00_future is unknown here\)/);
    await expect(restoreDatabase(target.url, await variant('rows.qmsbackup', (p) => p.replace(/"site":1/, '"site":2')))).rejects.toThrow(/table site should have 2 rows, it has 1/);
    expect(await target.db.selectFrom('site').select('id').execute()).toEqual([]);
    await expect(restoreDatabase(source.url, file)).rejects.toThrow(BackupError);
    await expect(restoreDatabase(source.url, file)).rejects.toThrow(/the database already holds data \(table site has rows\): restore only into an empty database/);
  });

  it('brings back every value as it was, escapes and all', async () => {
    await restoreDatabase(target.url, file);
    const [a, b] = await Promise.all([source.db.selectFrom('site').selectAll().execute(), target.db.selectFrom('site').selectAll().execute()]);
    expect(b).toEqual(a);
    expect(b[0]!.name).toBe('Trung tâm "Đông" \\ tab\there\nline');
  });
});
