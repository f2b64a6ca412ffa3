import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db, NewTicket, NewTicketEvent, TicketStatus } from '@qms/db';
import { localDate } from '@qms/protocol/calendar';
import { createSite, type SiteFixture } from '../support/queue-fixture.ts';

// A random but lawful history written straight into ticket, ticket_event, rating and
// counter_event: every ticket follows the lifecycle (issue, call, recall, start, transfer up
// to twice, finish / no-show / cancel, or stays waiting or at the counter), with random
// millisecond timings, calls by an official or by a counter device, and officials changing desks.

export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export interface HistorySite {
  fixture: SiteFixture;
  timezone: string;
  /** scores of its rating scale */
  scale: number[];
}

export interface HistoryOptions {
  tickets: number;
  /** issue instants are spread over [start, start + days) */
  start: Date;
  days: number;
  /** procedures, dossiers and criticisms too (default true) */
  extras?: boolean;
}

export async function generateHistory(db: Db, sites: HistorySite[], random: () => number, options: HistoryOptions): Promise<void> {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const ms = (maxSeconds: number) => Math.floor(random() * maxSeconds * 1000);
  const start = options.start.getTime();
  const span = options.days * 86_400_000;

  const servedBy = new Map<string, { counterId: string; serviceId: string }[]>();
  for (const site of sites) {
    const rows = await db.selectFrom('counterService').select(['counterId', 'serviceId'])
      .where('counterId', 'in', Object.values(site.fixture.counter)).execute();
    servedBy.set(site.fixture.siteId, rows);
    for (const serviceId of Object.values(site.fixture.service)) {
      await db.updateTable('service').set({ targetWaitSeconds: 60 + Math.floor(random() * 900) }).where('id', '=', serviceId).execute();
    }
  }

  // who works which counter when: official n at counter n from the start; halfway, the
  // official of the last counter takes over counter 2; a pause and resume on counter 1
  const officials = new Map<string, { at: number; staffId: string | null }[]>();
  const counterEvents: { counterId: string; type: 'opened' | 'paused' | 'resumed' | 'closed'; staffId: string | null; at: Date }[] = [];
  for (const site of sites) {
    const numbers = Object.keys(site.fixture.counter).map(Number).sort((a, b) => a - b);
    for (const n of numbers) {
      const counterId = site.fixture.counter[n]!;
      const staffId = site.fixture.staff[n - 1]!;
      counterEvents.push({ counterId, type: 'opened', staffId, at: new Date(start - 3_600_000) });
      officials.set(counterId, [{ at: start - 3_600_000, staffId }]);
    }
    const last = numbers.at(-1)!;
    const c2 = site.fixture.counter[2]!;
    const newcomer = site.fixture.staff[last - 1]!;
    counterEvents.push({ counterId: c2, type: 'closed', staffId: site.fixture.staff[1]!, at: new Date(start + span / 2 - 1000) });
    counterEvents.push({ counterId: c2, type: 'opened', staffId: newcomer, at: new Date(start + span / 2) });
    officials.get(c2)!.push({ at: start + span / 2, staffId: newcomer });
    const c1 = site.fixture.counter[1]!;
    counterEvents.push({ counterId: c1, type: 'paused', staffId: site.fixture.staff[0]!, at: new Date(start + span / 3) });
    counterEvents.push({ counterId: c1, type: 'resumed', staffId: site.fixture.staff[0]!, at: new Date(start + span / 3 + 600_000) });
  }
  await db.insertInto('counterEvent').values(counterEvents).execute();
  const officialAt = (counterId: string, at: number) =>
    [...officials.get(counterId)!].reverse().find((o) => o.at <= at)?.staffId ?? null;

  const tickets: NewTicket[] = [];
  const events: NewTicketEvent[][] = [];
  const ratings: { ticketIndex: number; siteId: string; score: number }[] = [];

  for (let i = 0; i < options.tickets; i++) {
    const site = pick(sites);
    const siteId = site.fixture.siteId;
    const services = Object.values(site.fixture.service);
    const issuedService = pick(services);
    // a few tickets share an instant, to exercise the (issued_at, id) order
    const issuedAt = i > 0 && random() < 0.03 ? new Date(tickets[i - 1]!.issuedAt as Date) : new Date(start + ms(span / 1000));
    const own: NewTicketEvent[] = [];
    const ev = (type: NewTicketEvent['type'], from: TicketStatus | null, to: TicketStatus, serviceId: string, at: number,
      counterId: string | null = null, staffId: string | null = null) =>
      own.push({ ticketId: '', siteId, type, fromStatus: from, toStatus: to, serviceId, counterId, staffId, deviceId: null, at: new Date(at), data: null });

    let now = issuedAt.getTime();
    let service = issuedService;
    let queuedAt = now;
    let status: TicketStatus = 'waiting';
    let call: { at: number; counterId: string; staffId: string | null } | null = null;
    let startedAt: number | null = null;
    let finishedAt: number | null = null;
    let transfers = 0;
    ev('issued', null, 'waiting', service, now);

    for (;;) {
      const roll = random();
      if (roll < 0.08) break; // still waiting
      if (roll < 0.15) {
        now += ms(900);
        status = 'cancelled';
        finishedAt = now;
        ev('cancelled', 'waiting', 'cancelled', service, now);
        break;
      }
      now += random() < 0.05 ? 0 : ms(2400);
      const counters = servedBy.get(siteId)!.filter((c) => c.serviceId === service).map((c) => c.counterId);
      const counterId = pick(counters.length ? counters : Object.values(site.fixture.counter));
      const how = random();
      // the event names the official (mostly the one working the counter, sometimes another),
      // or nobody when the counter's device called
      const eventStaff = how < 0.7 ? officialAt(counterId, now) : how < 0.85 ? null : pick(site.fixture.staff);
      ev('called', 'waiting', 'called', service, now, counterId, eventStaff);
      call = { at: now, counterId, staffId: eventStaff ?? officialAt(counterId, now) };
      status = 'called';
      startedAt = null;
      if (random() < 0.15) ev('recalled', 'called', 'called', service, now + ms(60), counterId, eventStaff);
      if (random() < 0.6) {
        startedAt = now + 60_000 + ms(120);
        ev('started', 'called', 'serving', service, startedAt, counterId, eventStaff);
        status = 'serving';
      }
      const next = random();
      if (next < 0.1 && status === 'called') {
        now += 180_000 + ms(300);
        status = 'no_show';
        finishedAt = now;
        ev('no_show', 'called', 'no_show', service, now, counterId, eventStaff);
        break;
      }
      if (next < 0.25 && transfers < 2 && services.length > 1) {
        now = (startedAt ?? now) + ms(600) + 1;
        const target = pick(services.filter((s) => s !== service));
        ev('transferred', status, 'waiting', target, now, counterId, eventStaff);
        service = target;
        queuedAt = now;
        transfers++;
        status = 'waiting';
        call = null;
        startedAt = null;
        continue;
      }
      if (next < 0.33) break; // still at the counter
      now = (startedAt ?? now) + 1 + ms(1800);
      finishedAt = now;
      ev('finished', status, 'done', service, now, counterId, eventStaff);
      status = 'done';
      if (random() < 0.6) ratings.push({ ticketIndex: i, siteId, score: pick(site.scale) });
      break;
    }

    const atCounter = status === 'called' || status === 'serving' || status === 'done' || status === 'no_show';
    tickets.push({
      id: randomUUID(),
      publicId: randomBytes(12).toString('base64url'),
      siteId,
      issuedServiceId: issuedService,
      serviceId: service,
      localDate: localDate(issuedAt, site.timezone),
      number: i + 1,
      code: `R${String(i + 1).padStart(4, '0')}`,
      status,
      priority: 'none',
      priorityRank: null,
      counterId: atCounter ? call!.counterId : null,
      staffId: atCounter ? call!.staffId : null,
      deviceId: null,
      issuedAt,
      queuedAt: new Date(queuedAt),
      calledAt: atCounter ? new Date(call!.at) : null,
      startedAt: atCounter && startedAt !== null ? new Date(startedAt) : null,
      finishedAt: finishedAt === null ? null : new Date(finishedAt),
      estimatedWaitSeconds: random() < 0.8 ? Math.round(random() * 1_800_000) / 1000 : null,
      positionAtIssue: null,
      transferCount: transfers,
    });
    events.push(own);
  }

  const ids = tickets.map((t) => t.id!);
  for (let i = 0; i < tickets.length; i += 200) {
    await db.insertInto('ticket').values(tickets.slice(i, i + 200)).execute();
  }
  // one ticket's events after another, in order: ids follow the order of the history
  const all = events.flatMap((list, i) => list.map((e) => ({ ...e, ticketId: ids[i]! })));
  for (let i = 0; i < all.length; i += 500) {
    await db.insertInto('ticketEvent').values(all.slice(i, i + 500)).execute();
  }
  if (ratings.length) {
    await db.insertInto('rating').values(ratings.map((r) => ({
      ticketId: ids[r.ticketIndex]!, siteId: r.siteId, counterId: tickets[r.ticketIndex]!.counterId ?? null,
      staffId: tickets[r.ticketIndex]!.staffId ?? null, score: r.score,
    }))).execute();
  }
  if (options.extras !== false) await generateExtras(db, sites, random, tickets.map((t, i) => ({ ...t, id: ids[i]! })), { start, span });
}

/** Procedures each site's services handle: national codes, one shared by two services. */
export const PROCEDURES: { code: string; vi: string }[] = [
  { code: '1.001193', vi: 'Đăng ký khai sinh' },
  { code: '1.000894', vi: 'Đăng ký kết hôn' },
  { code: '2.000815', vi: 'Chứng thực bản sao từ bản chính' },
  { code: '2.000884', vi: 'Chứng thực chữ ký' },
  { code: '1.012768', vi: 'Đăng ký biến động đất đai' },
  { code: '1.004222', vi: 'Đăng ký thường trú' },
];

type GeneratedTicket = NewTicket & { id: string };

/**
 * Procedures and dossier codes on the tickets, and criticisms with their cases, written like the
 * writers on main would (ticket_procedure, ticket_dossier, alert, alert_case_event):
 * - 15% of tickets have no procedure, 20% two; one code's name changes half-way (the label is
 *   the name last recorded);
 * - a third of the tickets at a counter receive a new dossier, a quarter bring back an earlier
 *   one (a second, third... visit), a few carry one code both received and returned (one
 *   visit), a few cancelled tickets carry one; one code is used at both sites;
 * - criticisms at random instants at a counter with its official, some of a ticket, some with
 *   neither; cases new, investigating, resolved, and resolved then reopened then resolved again;
 *   low ratings' alerts, which are not criticisms.
 */
async function generateExtras(db: Db, sites: HistorySite[], random: () => number, tickets: GeneratedTicket[], span: { start: number; span: number }) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const procedures: { ticketId: string; siteId: string; procedureCode: string; procedureName: string; serviceId: string; source: 'kiosk' | 'counter'; addedAt: Date }[] = [];
  const dossiers: { ticketId: string; siteId: string; dossierCode: string; direction: 'received' | 'returned'; recordedAt: Date }[] = [];
  const pool = new Map<string, string[]>();
  const renamedAt = span.start + span.span / 2;
  let serial = 0;
  for (const t of tickets) {
    const issued = (t.issuedAt as Date).getTime();
    const roll = random();
    const count = roll < 0.15 ? 0 : roll < 0.8 ? 1 : 2;
    const chosen = new Set<string>();
    while (chosen.size < count) chosen.add(pick(PROCEDURES).code);
    for (const code of chosen) {
      const p = PROCEDURES.find((x) => x.code === code)!;
      const addedAt = issued + Math.floor(random() * 600_000);
      // the list's name of 1.001193 changed half-way through the history
      const vi = code === '1.001193' && addedAt >= renamedAt ? `${p.vi} (trong nước)` : p.vi;
      procedures.push({ ticketId: t.id, siteId: t.siteId, procedureCode: code, procedureName: JSON.stringify({ vi, en: code }), serviceId: t.serviceId, source: random() < 0.5 ? 'kiosk' : 'counter', addedAt: new Date(addedAt) });
    }
    const atCounter = t.counterId !== null;
    const own = pool.get(t.siteId) ?? [];
    pool.set(t.siteId, own);
    const record = (dossierCode: string, direction: 'received' | 'returned') =>
      dossiers.push({ ticketId: t.id, siteId: t.siteId, dossierCode, direction, recordedAt: new Date(issued + 60_000) });
    const d = random();
    if (atCounter && d < 0.35) {
      const code = `HS-${String(++serial).padStart(5, '0')}`;
      own.push(code);
      record(code, 'received');
      if (random() < 0.1) record(code, 'returned'); // received and returned in one visit
      if (random() < 0.1) {
        const second = `HS-${String(++serial).padStart(5, '0')}`;
        own.push(second);
        record(second, 'received');
      }
    } else if (atCounter && d < 0.6 && own.length) {
      record(pick(own), random() < 0.7 ? 'returned' : 'received');
    } else if (t.status === 'cancelled' && d < 0.75 && own.length) {
      record(pick(own), 'received');
    }
  }
  // one code at both sites: a dossier is a code at one site
  if (sites.length > 1) {
    const [first, second] = [sites[0]!.fixture.siteId, sites[1]!.fixture.siteId];
    const shared = pool.get(first)?.[0];
    const other = tickets.find((t) => t.siteId === second && t.counterId !== null);
    if (shared && other) dossiers.push({ ticketId: other.id, siteId: second, dossierCode: shared, direction: 'received', recordedAt: other.issuedAt as Date });
  }
  // distinct (ticket, code, direction)
  const seen = new Set<string>();
  const unique = dossiers.filter((x) => {
    const k = `${x.ticketId}|${x.dossierCode}|${x.direction}`;
    return !seen.has(k) && (seen.add(k), true);
  });
  for (let i = 0; i < procedures.length; i += 500) await db.insertInto('ticketProcedure').values(procedures.slice(i, i + 500)).execute();
  for (let i = 0; i < unique.length; i += 500) await db.insertInto('ticketDossier').values(unique.slice(i, i + 500)).execute();

  // criticisms and their cases
  const manager = sites[0]!.fixture.staff[0]!;
  for (const site of sites) {
    const served = tickets.filter((t) => t.siteId === site.fixture.siteId && t.status === 'done');
    for (let i = 0; i < 40; i++) {
      const kind = random() < 0.15 ? 'low_rating' : 'criticism';
      const about = random() < 0.4 ? pick(served) : null;
      const where = random();
      const counterNumber = pick(Object.keys(site.fixture.counter).map(Number));
      const counterId = about ? about.counterId ?? null : where < 0.9 ? site.fixture.counter[counterNumber]! : null;
      const staffId = about ? about.staffId ?? null : counterId ? site.fixture.staff[counterNumber - 1]! : null;
      const createdAt = about ? (about.finishedAt as Date).getTime() + Math.floor(random() * 200_000) : span.start + Math.floor(random() * span.span);
      const c = random();
      const status = c < 0.2 ? null : c < 0.35 ? 'new' : c < 0.55 ? 'investigating' : 'resolved';
      const alert = await db.insertInto('alert').values({
        siteId: site.fixture.siteId, kind, counterId, staffId, ticketId: about?.id ?? null, deviceId: null,
        data: JSON.stringify({ comment: `#${i}` }), createdAt: new Date(createdAt), acknowledgedAt: null, acknowledgedBy: null,
        caseStatus: status,
      }).returning('id').executeTakeFirstOrThrow();
      const events: { status: 'new' | 'investigating' | 'resolved'; at: number }[] = [];
      let at = createdAt + 1000 + Math.floor(random() * 3_600_000);
      if (status === 'new' && random() < 0.5) events.push({ status: 'new', at });
      if (status === 'investigating' || status === 'resolved') events.push({ status: 'investigating', at });
      if (status === 'resolved') {
        at += 1000 + Math.floor(random() * 86_400_000);
        events.push({ status: 'resolved', at });
        const r = random();
        if (r < 0.25) {
          // reopened, then resolved again: its resolution is the second one
          events.push({ status: 'investigating', at: at + 3_600_000 }, { status: 'resolved', at: at + 7_200_000 + Math.floor(random() * 3_600_000) });
        } else if (r < 0.4) {
          // a later change that keeps it resolved (a new owner) is not a new resolution
          events.push({ status: 'resolved', at: at + 600_000 });
        }
      }
      if (status === 'resolved' && random() < 0.1) events.length = 0; // resolved with no history: no resolution time
      if (events.length) {
        await db.insertInto('alertCaseEvent').values(events.map((e) => ({ alertId: alert.id, at: new Date(e.at), byId: manager, status: e.status, ownerId: manager, note: null }))).execute();
      }
    }
  }
}

/**
 * Two sites with a history of `options`: A in Hồ Chí Minh time with the default 3-2-1 scale,
 * B in Tokyo time with services HT and KD over three counters and a 4-level scale whose lowest
 * score is 2 (the report tests' usual pair).
 */
export async function twoSiteHistory(db: Db, random: () => number, options: HistoryOptions): Promise<{ a: SiteFixture; b: SiteFixture }> {
  const a = await createSite(db);
  const b = await createSite(db, {
    services: [{ code: 'HT', prefix: 'A' }, { code: 'KD', prefix: 'K' }],
    counters: [{ number: 1, services: ['HT'] }, { number: 2, services: ['HT', 'KD'] }, { number: 3, services: ['KD'] }],
  });
  const scaleB = [5, 4, 3, 2];
  await db.updateTable('site').set({
    timezone: 'Asia/Tokyo',
    settings: JSON.stringify({ ratingScale: scaleB.map((score) => ({ score, label: { vi: String(score), en: String(score) } })) }),
  }).where('id', '=', b.siteId).execute();
  await generateHistory(db, [
    { fixture: a, timezone: 'Asia/Ho_Chi_Minh', scale: [3, 2, 1] },
    { fixture: b, timezone: 'Asia/Tokyo', scale: scaleB },
  ], random, options);
  return { a, b };
}

/** A day's end over [from, to) of one site, as day-end.ts does: its open tickets expire at `to`, so the days can be built into facts. */
export async function expireOpen(db: Db, siteId: string, from: Date, to: Date): Promise<void> {
  await sql`
    WITH ended AS (
      UPDATE ticket SET status = 'expired', finished_at = ${to}
      WHERE site_id = ${siteId} AND issued_at >= ${from} AND issued_at < ${to} AND status IN ('waiting', 'called', 'serving')
      RETURNING id, site_id, service_id, counter_id, status
    )
    INSERT INTO ticket_event (ticket_id, site_id, type, from_status, to_status, service_id, counter_id, at)
    SELECT id, site_id, 'expired', 'waiting', 'expired', service_id, counter_id, ${to} FROM ended`.execute(db);
}
