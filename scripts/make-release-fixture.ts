// Makes db/test/fixtures/release-<version>.qmsbackup: a backup of a database made by this
// release, with its schema and realistic data (the demo centre, accounts, devices, a morning of
// tickets issued, called, served, transferred, missed and cancelled, ratings), and beside it
// release-<version>.json: what db/test/release-fixtures.test.ts expects to find after restoring
// it and migrating to the latest schema of the code of the day.
//
// Run it once per release, before tagging, and commit both files:
//   npx tsx scripts/make-release-fixture.ts            (version from package.json)
//   npx tsx scripts/make-release-fixture.ts 0.2.0
// Fixtures of earlier releases stay as they are: each is a database of its release.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { backupDatabase, createDb, formatBytes, migrateToLatest, seedDemoIfEmpty, startEmbeddedPostgres } from '@qms/db';
import { releaseFixtureValues } from '@qms/db/testing';
import { AuthService } from '../server/src/auth/auth.service.ts';
import { ensureAdmin, ensureDemoAccess } from '../server/src/auth/bootstrap.ts';
import { QueueService } from '../server/src/queue/queue.service.ts';
import { RatingService } from '../server/src/ratings/rating.service.ts';

const root = path.resolve(import.meta.dirname, '..');
const version = process.argv[2] ?? (JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
const out = path.join(root, 'db/test/fixtures', `release-${version}`);

const dir = await mkdtemp(path.join(tmpdir(), 'qms-fixture-'));
await chmod(dir, 0o755); // PostgreSQL runs as user "postgres" when we are root
const pg = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), fast: true });
const db = createDb(pg.url, { max: 4 });
try {
  await migrateToLatest(db);
  await seedDemoIfEmpty(db);
  await ensureAdmin(db, 'fixture-admin-password');
  const auth = new AuthService(db);
  await ensureDemoAccess(db, auth, 'fixture-staff-password');

  // Monday 7 December 2026 from 09:00 in Hà Nội, a second per step
  let now = Date.parse('2026-12-07T02:00:00Z');
  const clock = () => new Date((now += 1000));
  const queue = new QueueService({ db, clock });
  const ratings = new RatingService(db, { clock, windowSeconds: 300 });

  const site = await db.selectFrom('site').select('id').where('code', '=', 'PHUONG-DONG-CAM').executeTakeFirstOrThrow();
  const service = Object.fromEntries((await db.selectFrom('service').select(['id', 'code']).where('siteId', '=', site.id).execute()).map((s) => [s.code, s.id]));
  const counter = Object.fromEntries((await db.selectFrom('counter').select(['id', 'number']).where('siteId', '=', site.id).execute()).map((c) => [c.number, c.id]));
  const staff = Object.fromEntries((await db.selectFrom('appUser').select(['id', 'username']).where('username', 'like', 'canbo%').execute()).map((u) => [u.username, u.id]));
  const kiosk = await db.selectFrom('device').select('id').where('siteId', '=', site.id).where('kind', '=', 'kiosk').executeTakeFirstOrThrow();
  const tablet = await db.selectFrom('device').select(['id', 'counterId']).where('siteId', '=', site.id).where('kind', '=', 'rating').executeTakeFirstOrThrow();

  const issue = async (code: string, priority?: string) =>
    (await queue.issue({ siteId: site.id, serviceId: service[code]!, deviceId: kiosk.id, priority, lang: priority ? 'vi' : 'en' })).value;
  const at = (n: number) => ({ counterId: counter[n]!, staffId: staff[`canbo${n}`]! });
  for (const n of [1, 2, 4]) await queue.openCounter(at(n));

  const tickets = [await issue('HT'), await issue('HT', 'elderly'), await issue('CT'), await issue('HT'), await issue('DD'), await issue('CT'), await issue('HT'), await issue('DD')];
  // counter 1: serves two (the priority ticket first), rated on its tablet and on a phone
  for (const score of [3, 1]) {
    const called = (await queue.callNext(at(1))).value!;
    await queue.start({ ...at(1), ticketId: called.id });
    await queue.finish({ ...at(1), ticketId: called.id });
    await ratings.rate(score === 3
      ? { ticketId: called.id, score, channel: 'tablet', device: { id: tablet.id, counterId: tablet.counterId } }
      : { ticketId: called.id, score, reason: 'waiting', comment: 'Chờ lâu', channel: 'phone' });
  }
  // counter 2: a no-show, then a ticket transferred to another field
  const missed = (await queue.callNext(at(2))).value!;
  await queue.noShow({ ...at(2), ticketId: missed.id });
  const moved = (await queue.callNext(at(2))).value!;
  await queue.transfer({ ...at(2), ticketId: moved.id, serviceId: service.DD! });
  // counter 4: one being served when the backup is taken; one cancelled at the kiosk's request
  const serving = (await queue.callNext(at(4))).value!;
  await queue.start({ ...at(4), ticketId: serving.id });
  await queue.cancel({ staffId: staff.canbo4!, ticketId: tickets.at(-1)!.id, siteId: site.id });
  await queue.pauseCounter({ ...at(2), reason: 'break' });

  const summary = await backupDatabase(pg.url, `${out}.qmsbackup`, { createdBy: `qms ${version} (release fixture)` });
  const expected = {
    release: version,
    rows: summary.rows,
    ...(await releaseFixtureValues(db)),
  };
  await writeFile(`${out}.json`, `${JSON.stringify(expected, null, 2)}\n`);
  console.log(`Wrote ${out}.qmsbackup (${formatBytes(summary.bytes)}, ${summary.ms} ms) and ${out}.json`);
} finally {
  await db.destroy();
  await pg.stop();
  await rm(dir, { recursive: true, force: true });
}
