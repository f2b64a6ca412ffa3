import { randomBytes, randomUUID } from 'node:crypto';
import type { Db, NewTicket, NewTicketEvent, TicketStatus } from '@qms/db';
import { localDate } from '@qms/protocol/calendar';
import type { SiteFixture } from '../support/queue-fixture.ts';

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
}
