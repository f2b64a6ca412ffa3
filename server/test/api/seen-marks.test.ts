import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoIfEmpty } from '@qms/db';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { SeenMarks } from '../../src/realtime/device.batch.ts';

// last_seen_at marks are written in batches after the fact; the site monitor writes "seen now"
// for connected devices in between. A late batch must not move a device's last_seen_at back
// (that made a connected display look offline under load).

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  await seedDemoIfEmpty(t.db);
});
afterAll(async () => t?.drop());

describe('SeenMarks', () => {
  it('writes marks in one batch and never moves last_seen_at back', async () => {
    const site = await t.db.selectFrom('site').select('id').executeTakeFirstOrThrow();
    const [a, b] = await t.db.insertInto('device')
      .values([{ siteId: site.id, kind: 'display', name: 'a' }, { siteId: site.id, kind: 'display', name: 'b' }])
      .returning('id').execute();
    const errors: unknown[] = [];
    const marks = new SeenMarks(t.db, (e) => errors.push(e), 10_000);
    marks.mark(a!.id, new Date('2026-11-24T02:00:00Z'));
    marks.mark(b!.id, new Date('2026-11-24T02:00:00Z'));
    // the monitor marks `a` seen later, before the batch is written
    await t.db.updateTable('device').set({ lastSeenAt: new Date('2026-11-24T02:10:00Z') }).where('id', '=', a!.id).execute();
    await marks.close();
    const rows = await t.db.selectFrom('device').select(['id', 'lastSeenAt']).where('id', 'in', [a!.id, b!.id]).execute();
    const seen = new Map(rows.map((r) => [r.id, r.lastSeenAt?.toISOString()]));
    expect(errors).toEqual([]);
    expect(seen.get(a!.id)).toBe('2026-11-24T02:10:00.000Z');
    expect(seen.get(b!.id)).toBe('2026-11-24T02:00:00.000Z');
  });
});
