import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { freePort } from '@qms/db';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { api, screen, sleep, startServer, tokenSite, until, type Screen, type ServerProcess, type TokenSite } from './support.ts';

// SIGKILL the server in the middle of a load of issues and calls, start it again on the same
// port: every ticket whose issue answered 201 is still there, no ticket was called twice, the
// numbering has no gap, and the displays come back by themselves with a fresh snapshot. The
// kiosks press as the real one does: one Idempotency-Key per press, retried until an answer
// comes, so no ticket exists that no kiosk was given (no ghost that later counts as a no-show).

let t: TestDatabase;
let site: TokenSite;
let server: ServerProcess | undefined;
const screens: Screen[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  site = await tokenSite(t.db, { displays: 3, kiosks: 3 });
});
afterAll(async () => {
  for (const s of screens) s.close();
  await server?.stop();
  await t?.drop();
});

describe('SIGKILL under load', () => {
  it('loses no issued ticket, calls none twice, and the displays resync', async () => {
    const port = await freePort();
    server = await startServer({ databaseUrl: t.url, port });
    const base = server.url; // the same address after the restart
    for (const d of site.displays) screens.push(screen(base, d.token));
    expect(await until(() => screens.every((s) => s.snapshots.length === 1), 10_000)).toBe(true);
    for (let n = 1; n <= 4; n++) {
      expect((await api(base, 'POST', `/counters/${site.counter[n]}/open`, site.staffTokens[n - 1])).status).toBe(200);
    }

    const services = Object.values(site.service);
    const issued: string[] = [];
    const calledByReply: string[] = [];
    const statuses: Record<string, number> = {};
    const note = (what: string, status: number) => (statuses[`${what} ${status}`] = (statuses[`${what} ${status}`] ?? 0) + 1);
    let running = true;
    const deadline = Date.now() + 60_000; // bound every loop in time whatever happens

    let retries = 0;
    let unanswered = 0;
    /** One press of a kiosk's button: retried under its key until an answer comes. */
    const press = async (kioskToken: string, serviceId: string): Promise<void> => {
      const key = { 'idempotency-key': `kill-${randomUUID()}` };
      let r = await api(base, 'POST', `/sites/${site.siteId}/tickets`, kioskToken, { serviceId }, 5000, key);
      // no answer (refused, reset, timed out) or 5xx: the same press again, as the kiosk does
      while ((r.status <= 0 || r.status >= 500) && Date.now() < deadline) {
        note('issue', r.status);
        retries++;
        await sleep(100);
        r = await api(base, 'POST', `/sites/${site.siteId}/tickets`, kioskToken, { serviceId }, 5000, key);
      }
      note('issue', r.status);
      if (r.status === 201) issued.push(r.body.ticket.id);
      else if (r.status <= 0 || r.status >= 500) unanswered++;
      else await sleep(50);
    };
    const kiosks = site.kiosks.map(async (k, i) => {
      for (let n = 0; running && Date.now() < deadline && n < 5000; n++) await press(k.token, services[(n + i) % services.length]!);
    });
    const counters = [1, 2, 3, 4].map(async (n) => {
      const token = site.staffTokens[n - 1];
      for (let i = 0; running && Date.now() < deadline && i < 5000; i++) {
        const r = await api(base, 'POST', `/counters/${site.counter[n]}/call-next`, token, {}, 5000);
        note('call-next', r.status);
        let held: string | undefined;
        if (r.status === 200) {
          calledByReply.push(r.body.ticket.id);
          held = r.body.ticket.id;
        } else if (r.status === 409 && r.body?.error?.code === 'COUNTER_BUSY') {
          held = r.body.error.details.ticketId; // its ticket from before the crash
        } else {
          await sleep(r.status === 204 ? 20 : 50);
          continue;
        }
        const f = await api(base, 'POST', `/tickets/${held}/${i % 5 === 0 ? 'no-show' : 'finish'}`, token, {}, 5000);
        note('finish', f.status);
      }
    });

    await until(() => issued.length >= 150 && calledByReply.length >= 40, 30_000);
    const beforeKill = { issued: issued.length, called: calledByReply.length };
    const snapshotsBefore = screens.map((s) => s.snapshots.length);
    // a morning rush at the moment of the crash: many presses in flight, some committed whose
    // answer never leaves the dying process
    const rush = Array.from({ length: 120 }, (_, j) => press(site.kiosks[j % site.kiosks.length]!.token, services[j % services.length]!));
    await sleep(150);
    await server.kill();
    await sleep(700); // requests keep failing meanwhile (connection refused)
    server = await startServer({ databaseUrl: t.url, port });
    await until(() => issued.length >= beforeKill.issued + 100 && calledByReply.length >= beforeKill.called + 30, 30_000);
    running = false;
    await Promise.all([...kiosks, ...counters, ...rush]);

    // the load went on after the restart
    expect(issued.length).toBeGreaterThan(beforeKill.issued);
    expect(calledByReply.length).toBeGreaterThan(beforeKill.called);

    // every press was answered, and the tickets are exactly those the kiosks were given: every
    // 201 is in the database, none is there twice, and none was made that no kiosk got
    expect(unanswered).toBe(0);
    const all = await t.db.selectFrom('ticket').select('id').execute();
    expect(new Set(issued).size).toBe(issued.length);
    expect(all.map((row) => row.id).sort()).toEqual([...issued].sort());

    // no ticket called twice: by the replies, and by the event log
    expect(new Set(calledByReply).size).toBe(calledByReply.length);
    const twice = await sql<{ ticketId: string; n: number }>`
      SELECT ticket_id AS "ticketId", count(*)::int AS n FROM ticket_event WHERE type = 'called' GROUP BY ticket_id HAVING count(*) > 1`.execute(t.db);
    expect(twice.rows).toEqual([]);
    // every ticket that left 'waiting' through a call has exactly its one 'called' event
    const uncalled = await sql<{ id: string }>`
      SELECT t.id FROM ticket t WHERE t.status IN ('called', 'serving', 'done', 'no_show')
        AND NOT EXISTS (SELECT 1 FROM ticket_event e WHERE e.ticket_id = t.id AND e.type = 'called')`.execute(t.db);
    expect(uncalled.rows).toEqual([]);
    // at most one ticket at each counter
    const busy = await sql<{ counterId: string }>`
      SELECT counter_id AS "counterId" FROM ticket WHERE status IN ('called', 'serving') GROUP BY counter_id HAVING count(*) > 1`.execute(t.db);
    expect(busy.rows).toEqual([]);
    // numbers have no gap: a crashed transaction took its number back with it
    const gaps = await sql<{ serviceId: string; n: number; max: number }>`
      SELECT issued_service_id AS "serviceId", count(*)::int AS n, max(number) AS max FROM ticket GROUP BY issued_service_id, local_date`.execute(t.db);
    for (const g of gaps.rows) expect(g.max).toBe(g.n);

    // the displays came back by themselves, and live events reach them again
    expect(await until(() => screens.every((s, i) => s.socket.connected && s.snapshots.length > snapshotsBefore[i]!), 15_000)).toBe(true);
    const r = await api(base, 'POST', `/sites/${site.siteId}/tickets`, site.kiosks[0]!.token, { serviceId: site.service.DD });
    expect(r.status).toBe(201);
    const marks = screens.map((s) => s.called.length);
    const token4 = site.staffTokens[3]!;
    const active = await t.db.selectFrom('ticket').select('id').where('counterId', '=', site.counter[4]!).where('status', 'in', ['called', 'serving']).executeTakeFirst();
    if (active) await api(base, 'POST', `/tickets/${active.id}/finish`, token4);
    const call = await api(base, 'POST', `/counters/${site.counter[4]}/call-next`, token4);
    expect(call.status).toBe(200);
    expect(await until(() => screens.every((s, i) => s.called.slice(marks[i]).some((c) => c.ticketId === call.body.ticket.id)), 5000)).toBe(true);
    console.log(`kill: ${issued.length} tickets issued (${beforeKill.issued} before the kill), ${retries} retried presses, ${calledByReply.length} calls; replies ${JSON.stringify(statuses)}`);
    expect(statuses['issue 500'] ?? 0).toBe(0);
    expect(statuses['call-next 500'] ?? 0).toBe(0);
  }, 120_000);

  // Bug 1 of docs/reliability.md (fixed): a graceful stop closes the connections (it used to
  // send "io server disconnect", which clients take as final), so the screens come back.
  it('graceful restart (SIGTERM): the screens reconnect by themselves', async () => {
    const port = await freePort();
    const first = await startServer({ databaseUrl: t.url, port });
    const display = screen(first.url, site.displays[0]!.token);
    screens.push(display);
    try {
      expect(await until(() => display.snapshots.length === 1, 10_000)).toBe(true);
      await first.stop();
      const second = await startServer({ databaseUrl: t.url, port });
      try {
        const back = await until(() => display.socket.connected && display.snapshots.length === 2, 15_000);
        expect(back, `disconnect reasons: ${JSON.stringify(display.disconnects)}`).toBe(true);
      } finally {
        await second.stop();
      }
    } finally {
      display.close();
    }
  }, 60_000);
});
