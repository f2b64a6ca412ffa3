import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';
import { loadDemoCentre, parseWeekdays, seedDemoIfEmpty } from '../src/seed.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

describe('demo seed', () => {
  it('seeds every site of the demo centre once, and only into an empty database', async () => {
    expect(await seedDemoIfEmpty(t.db)).toBe(true);
    expect(await seedDemoIfEmpty(t.db)).toBe(false);

    const centre = loadDemoCentre();
    const sites = await t.db.selectFrom('site').select(['id', 'code', 'timezone']).orderBy('code').execute();
    expect(sites.map((s) => s.code)).toEqual(centre.sites.map((s) => s.code).sort());
    const dongCam = sites.find((s) => s.code === 'PHUONG-DONG-CAM')!;
    expect(dongCam.timezone).toBe('Asia/Ho_Chi_Minh');

    const services = await t.db.selectFrom('service').selectAll().where('siteId', '=', dongCam.id).orderBy('position').execute();
    expect(services.map((s) => s.prefix)).toEqual(['A', 'B', 'C', 'D', 'E', 'F']);
    expect(services[0]!.name).toEqual({ vi: 'Tư pháp – Hộ tịch', en: 'Justice – Civil status' });

    // counter 5 serves KD then XH, in that order
    const counter5 = await t.db
      .selectFrom('counter')
      .innerJoin('counterService', 'counterService.counterId', 'counter.id')
      .innerJoin('service', 'service.id', 'counterService.serviceId')
      .select(['service.code'])
      .where('counter.siteId', '=', dongCam.id)
      .where('counter.number', '=', 5)
      .orderBy('counterService.position')
      .execute();
    expect(counter5.map((r) => r.code)).toEqual(['KD', 'XH']);

    // mon-fri two sessions + saturday morning = 11 rows
    const hours = await t.db.selectFrom('openingHours').selectAll().where('siteId', '=', dongCam.id).execute();
    expect(hours).toHaveLength(11);
    expect(hours.filter((h) => h.weekday === 6)).toEqual([expect.objectContaining({ opens: '07:30:00', closes: '11:30:00' })]);
    expect(hours.some((h) => h.weekday === 7)).toBe(false);

    const groups = await t.db.selectFrom('priorityGroup').select(['code', 'rank']).where('siteId', '=', dongCam.id).execute();
    expect(groups).toHaveLength(centre.priorityGroups.length);
  });

  it('parses weekday ranges and rejects nonsense', () => {
    expect(parseWeekdays('mon-fri')).toEqual([1, 2, 3, 4, 5]);
    expect(parseWeekdays('sat')).toEqual([6]);
    expect(() => parseWeekdays('fri-mon')).toThrow(/weekday/);
    expect(() => parseWeekdays('someday')).toThrow(/weekday/);
  });
});

describe('schema', () => {
  it('keeps ticket events append-only', async () => {
    const [site] = await t.db.selectFrom('site').select('id').limit(1).execute();
    const service = await t.db.selectFrom('service').select('id').where('siteId', '=', site!.id).limit(1).executeTakeFirstOrThrow();
    const now = new Date();
    const ticket = await t.db
      .insertInto('ticket')
      .values({
        publicId: 'p1', siteId: site!.id, issuedServiceId: service.id, serviceId: service.id, localDate: '2026-11-24',
        number: 1, code: 'A001', status: 'waiting', priorityRank: null, deviceId: null, counterId: null, staffId: null,
        issuedAt: now, queuedAt: now, calledAt: null, startedAt: null, finishedAt: null, estimatedWaitSeconds: null,
        positionAtIssue: 0,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await t.db
      .insertInto('ticketEvent')
      .values({
        ticketId: ticket.id, siteId: site!.id, type: 'issued', fromStatus: null, toStatus: 'waiting',
        serviceId: service.id, counterId: null, staffId: null, deviceId: null, at: now, data: null,
      })
      .execute();
    await expect(t.db.updateTable('ticketEvent').set({ type: 'called' }).execute()).rejects.toThrow(/append-only/);
    await expect(t.db.deleteFrom('ticketEvent').execute()).rejects.toThrow(/append-only/);
  });

  it("writes a history event's outbox fact without locking the site's row", async () => {
    // every transaction of a site writes outbox facts; a FOR KEY SHARE on the one site row from
    // each of them at once cost a MultiXact and its WAL per fact (docs/performance.md, "Fifth round")
    const ticket = await t.db.selectFrom('ticket').select(['id', 'siteId', 'serviceId']).where('publicId', '=', 'p1').executeTakeFirstOrThrow();
    // someone listens: a site nobody listens at writes no facts (qms_outbox_wanted)
    await t.db.insertInto('webhook').values({ siteId: ticket.siteId, url: 'http://127.0.0.1:9/hook', secret: 'schema-test-webhook-secret', events: ['ticket:updated'] }).execute();
    await t.db.transaction().execute(async (trx) => {
      await trx.insertInto('ticketEvent').values({
        ticketId: ticket.id, siteId: ticket.siteId, type: 'cancelled', fromStatus: 'waiting', toStatus: 'cancelled',
        serviceId: ticket.serviceId, counterId: null, staffId: null, deviceId: null, at: new Date(), data: null,
      }).execute();
      expect(await trx.selectFrom('outbox').select('type').where('ticketId', '=', ticket.id).where('type', '=', 'ticket:updated').execute()).toHaveLength(1);
      // another connection may take the site's row for a key change at once: nobody holds a share lock on it
      await t.db.connection().execute(async (other) => {
        await sql`SET lock_timeout = '100ms'`.execute(other);
        await expect(sql`SELECT id FROM site WHERE id = ${ticket.siteId} FOR UPDATE NOWAIT`.execute(other)).resolves.toBeTruthy();
      });
    });
  });

  it("gives the ticket these indexes and no more: each is written on every change of a ticket's status", async () => {
    // each has its reader (the comment of the migration that made it); a ticket's issue, call and
    // finish wrote 20 entries in them before the live tickets' two indexes became one
    const { rows } = await sql<{ name: string }>`SELECT indexname AS name FROM pg_indexes WHERE tablename = 'ticket' ORDER BY 1`.execute(t.db);
    expect(rows.map((r) => r.name)).toEqual([
      'ticket_counter_active_idx', 'ticket_counter_done_idx', 'ticket_done_idx', 'ticket_issue_key_idx', 'ticket_live_code_idx',
      'ticket_number_per_day', 'ticket_pkey', 'ticket_public_id_key', 'ticket_report_idx', 'ticket_waiting_booked_idx', 'ticket_waiting_idx',
    ]);
    const { rows: [live] } = await sql<{ def: string }>`SELECT indexdef AS def FROM pg_indexes WHERE indexname = 'ticket_live_code_idx'`.execute(t.db);
    expect(live!.def).toMatch(/UNIQUE INDEX .* \(site_id, code\) INCLUDE \(local_date\) WHERE/);
  });

  it('keeps timestamps to the millisecond', async () => {
    const { rows } = await sql<{ t: Date }>`select '2026-11-22T08:15:03.120456+07:00'::timestamptz(3) as t`.execute(t.db);
    expect(rows[0]!.t.toISOString()).toBe('2026-11-22T01:15:03.120Z');
  });

  it('refuses a second ticket with the same number for a service and day', async () => {
    const ticket = await t.db.selectFrom('ticket').selectAll().executeTakeFirstOrThrow();
    const { id: _id, transferCount: _t, ...copy } = ticket;
    await expect(t.db.insertInto('ticket').values({ ...copy, publicId: 'p2' }).execute()).rejects.toThrow(/ticket_number_per_day/);
  });
});
