import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import type { TicketStatus } from '@qms/protocol';
import { QueueService } from '../../src/queue/queue.service.ts';
import { QueueError } from '../../src/queue/queue.errors.ts';
import { at, createSite, openCounter, TestClock, type SiteFixture } from '../support/queue-fixture.ts';

// Random sequences of operations, run against the real engine and a few lines of model.
// Every step checks its answer against the model; after each sequence the whole database must
// agree with the model and the invariants must hold.

const SERVICES = ['HT', 'CT'] as const;
const COUNTER_SERVICES: Record<number, readonly string[]> = { 1: ['HT'], 2: ['HT', 'CT'], 3: ['CT'] };
const RANK: Record<string, number | null> = { none: null, elderly: 1, child_under_6: 2 };

interface ModelTicket {
  id: string;
  code: string;
  service: string;
  rank: number | null;
  /** order of entering the current queue */
  seq: number;
  status: TicketStatus;
  counter: number | null;
}

interface Model {
  tickets: ModelTicket[];
  seq: number;
}

interface Real {
  queue: QueueService;
  site: SiteFixture;
}

const activeAt = (m: Model, n: number) => m.tickets.find((t) => t.counter === n && (t.status === 'called' || t.status === 'serving'));

function expectedNext(m: Model, n: number): ModelTicket | undefined {
  return m.tickets
    .filter((t) => t.status === 'waiting' && COUNTER_SERVICES[n]!.includes(t.service))
    .sort((a, b) => (a.rank ?? 99) - (b.rank ?? 99) || a.seq - b.seq)[0];
}

async function refused(promise: Promise<unknown>, code: string) {
  await expect(promise).rejects.toSatisfy((e) => e instanceof QueueError && e.code === code);
}

class Issue implements fc.AsyncCommand<Model, Real> {
  constructor(readonly service: string, readonly priority: string) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const { value } = await r.queue.issue({ siteId: r.site.siteId, serviceId: r.site.service[this.service]!, priority: this.priority });
    const ahead = m.tickets.filter((t) => t.status === 'waiting' && t.service === this.service
      && (this.priority === 'none' ? true : t.rank !== null && t.rank <= RANK[this.priority]!)).length;
    expect(value.position).toBe(ahead);
    m.tickets.push({ id: value.id, code: value.code, service: this.service, rank: RANK[this.priority]!, seq: m.seq++, status: 'waiting', counter: null });
  }
  toString = () => `issue(${this.service}, ${this.priority})`;
}

class CallNext implements fc.AsyncCommand<Model, Real> {
  constructor(readonly counter: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    if (activeAt(m, this.counter)) return refused(r.queue.callNext(at(r.site, this.counter)), 'COUNTER_BUSY');
    const expected = expectedNext(m, this.counter);
    const { value } = await r.queue.callNext(at(r.site, this.counter));
    expect(value?.code ?? null).toBe(expected?.code ?? null);
    if (expected) Object.assign(expected, { status: 'called', counter: this.counter });
  }
  toString = () => `callNext(${this.counter})`;
}

type Step = 'start' | 'finish' | 'noShow' | 'recall';
const NEXT: Record<Step, Partial<Record<TicketStatus, TicketStatus>>> = {
  start: { called: 'serving' }, finish: { called: 'done', serving: 'done' }, noShow: { called: 'no_show' }, recall: { called: 'called' },
};
const REFUSAL: Record<Step, string> = { start: 'TICKET_NOT_CALLED', finish: 'TICKET_NOT_IN_SERVICE', noShow: 'TICKET_NOT_CALLED', recall: 'TICKET_NOT_CALLED' };

class Act implements fc.AsyncCommand<Model, Real> {
  constructor(readonly counter: number, readonly step: Step, readonly pick: number) {}
  check = (m: Readonly<Model>) => m.tickets.length > 0;
  async run(m: Model, r: Real) {
    // the counter's own ticket when it has one, otherwise any ticket (usually illegal)
    const ticket = activeAt(m, this.counter) ?? m.tickets[this.pick % m.tickets.length]!;
    const call = r.queue[this.step].bind(r.queue)({ ...at(r.site, this.counter), ticketId: ticket.id });
    const atOther = ticket.counter !== this.counter && (ticket.status === 'called' || ticket.status === 'serving');
    if (atOther) return refused(call, 'TICKET_AT_OTHER_COUNTER');
    const to = NEXT[this.step][ticket.status];
    if (!to) return refused(call, REFUSAL[this.step]);
    const { value } = await call;
    expect(value.status).toBe(to);
    ticket.status = to;
  }
  toString = () => `${this.step}(${this.counter}, #${this.pick})`;
}

class Transfer implements fc.AsyncCommand<Model, Real> {
  constructor(readonly counter: number, readonly service: string) {}
  check = (m: Readonly<Model>) => !!activeAt(m as Model, this.counter);
  async run(m: Model, r: Real) {
    const ticket = activeAt(m, this.counter)!;
    const { value } = await r.queue.transfer({ ...at(r.site, this.counter), ticketId: ticket.id, serviceId: r.site.service[this.service]! });
    expect(value).toMatchObject({ code: ticket.code, status: 'waiting' });
    Object.assign(ticket, { status: 'waiting', service: this.service, counter: null, seq: m.seq++ });
  }
  toString = () => `transfer(${this.counter} -> ${this.service})`;
}

class Cancel implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.tickets.length > 0;
  async run(m: Model, r: Real) {
    const ticket = m.tickets[this.pick % m.tickets.length]!;
    if (ticket.status !== 'waiting') return refused(r.queue.cancel({ ticketId: ticket.id }), 'TICKET_NOT_WAITING');
    await r.queue.cancel({ ticketId: ticket.id });
    ticket.status = 'cancelled';
  }
  toString = () => `cancel(#${this.pick})`;
}

async function checkInvariants(m: Model, r: Real, t: TestDatabase) {
  const rows = await t.db.selectFrom('ticket').select(['id', 'status', 'counterId', 'serviceId']).where('siteId', '=', r.site.siteId).execute();
  const byId = new Map(rows.map((row) => [row.id, row]));
  expect(rows).toHaveLength(m.tickets.length);
  for (const ticket of m.tickets) {
    expect(byId.get(ticket.id)).toMatchObject({ status: ticket.status, serviceId: r.site.service[ticket.service] });
  }
  // at most one active ticket per counter
  const active = rows.filter((row) => row.status === 'called' || row.status === 'serving').map((row) => row.counterId);
  expect(new Set(active).size).toBe(active.length);
  // numbers per service are 1..N
  const numbers = await sql<{ n: number; max: number; distinct: number }>`
    SELECT count(*)::int AS n, max(number) AS max, count(DISTINCT number)::int AS distinct
    FROM ticket WHERE site_id = ${r.site.siteId} GROUP BY issued_service_id`.execute(t.db);
  for (const row of numbers.rows) expect(row).toEqual({ n: row.max, max: row.max, distinct: row.max });
  // the status of every ticket is where its last event left it
  const last = await sql<{ status: string; last: string }>`
    SELECT t.status, (SELECT e.to_status FROM ticket_event e WHERE e.ticket_id = t.id ORDER BY e.id DESC LIMIT 1) AS last
    FROM ticket t WHERE t.site_id = ${r.site.siteId}`.execute(t.db);
  for (const row of last.rows) expect(row.last).toBe(row.status);
}

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

describe('queue engine properties', () => {
  it('agrees with the model and keeps its invariants over random operation sequences', async () => {
    const counter = fc.constantFrom(1, 2, 3);
    const commands = [
      fc.tuple(fc.constantFrom(...SERVICES), fc.constantFrom('none', 'none', 'elderly', 'child_under_6')).map(([s, p]) => new Issue(s, p)),
      counter.map((n) => new CallNext(n)),
      counter.map((n) => new CallNext(n)),
      fc.tuple(counter, fc.constantFrom<Step>('start', 'finish', 'finish', 'noShow', 'recall'), fc.nat(50)).map(([n, s, p]) => new Act(n, s, p)),
      fc.tuple(counter, fc.constantFrom<Step>('finish'), fc.nat(50)).map(([n, s, p]) => new Act(n, s, p)),
      fc.tuple(counter, fc.constantFrom(...SERVICES)).map(([n, s]) => new Transfer(n, s)),
      fc.nat(50).map((p) => new Cancel(p)),
    ];
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 80, size: 'large' }), async (cmds) => {
        const clock = new TestClock('2026-11-24T02:00:00Z');
        const queue = new QueueService({ db: t.db, clock: clock.now });
        const site = await createSite(t.db, { services: [{ code: 'HT', prefix: 'A' }, { code: 'CT', prefix: 'B' }], counters: [
          { number: 1, services: ['HT'] }, { number: 2, services: ['HT', 'CT'] }, { number: 3, services: ['CT'] },
        ] });
        for (const n of [1, 2, 3]) await openCounter(queue, site, n);
        const model: Model = { tickets: [], seq: 0 };
        const real: Real = { queue, site };
        await fc.asyncModelRun(() => ({ model, real }), [...cmds]);
        await checkInvariants(model, real, t);
        if (process.env.DEBUG_PROPERTY) console.log(`commands=${[...cmds].length} tickets=${model.tickets.length} done=${model.tickets.filter((x) => x.status === "done").length}`);
      }),
      { numRuns: 30 },
    );
  }, 180_000);
});
