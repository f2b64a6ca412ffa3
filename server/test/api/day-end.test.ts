import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ticket } from '@qms/protocol';
import { apiFixture, bearer, listenLocally, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';
import { SocketClients, until, type Listener } from '../support/sockets.ts';

// The end of a centre's day as its screens live it: nobody presses anything, the server ends
// the day by itself (its day-end check), every screen hears it, and the phone page says so.

let f: ApiFixture;
let url = '';
// Tuesday 24 Nov 2026, 16:40 in Hà Nội: the demo centre's last session closes at 17:00
const clock = new TestClock('2026-11-24T09:40:00Z');
const sockets = new SocketClients(() => url);

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now, dayEndCheckMs: 100, config: { rateLimits: false, dayEndGraceMinutes: 30 } });
  url = await listenLocally(f.app);
});
afterAll(async () => {
  sockets.closeAll();
  await f?.app.close();
  await f?.t.drop();
});

const api = (method: 'GET' | 'POST', path: string, token?: string, payload?: object) =>
  f.app.inject({ method, url: `/api/v1${path}`, headers: token ? bearer(token) : {}, ...(payload ? { payload } : {}) });

const updates = (l: Listener) => l.events.filter((e) => e.name === 'ticket:updated').map((e) => (e.payload as { ticket: Ticket }).ticket);

describe('a centre whose day is over', () => {
  it('ends its unfinished tickets by itself, and every screen and phone page hears of it', async () => {
    const issued: Ticket[] = [];
    for (let i = 0; i < 3; i++) issued.push((await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT })).json().ticket);
    expect((await api('POST', `/counters/${f.counters[1]}/open`, f.tokens.staff, {})).statusCode).toBe(200);
    expect((await api('POST', `/counters/${f.counters[1]}/call-next`, f.tokens.staff, {})).json().ticket.code).toBe(issued[0]!.code);
    const display = await sockets.listen({ token: f.tokens.display });
    const counter = await sockets.listen({ token: f.tokens.counterDevice });

    clock.set('2026-11-24T10:29:00Z'); // 17:29: still within the grace after closing
    await new Promise((r) => setTimeout(r, 400));
    expect(updates(display)).toEqual([]);

    clock.set('2026-11-24T10:30:01Z'); // 17:30:01
    await until(() => updates(display).length === 3 && display.events.at(-1)?.name === 'queue:snapshot', 5000);
    expect(updates(display).map((t) => [t.code, t.status])).toEqual(issued.map((t) => [t.code, 'expired']));
    const snapshot = display.events.filter((e) => e.name === 'queue:snapshot').at(-1)!.payload as { services: { serviceId: string; waiting: number }[]; counters: { counterId: string; ticket?: unknown }[] };
    expect(snapshot.services.find((s) => s.serviceId === f.services.HT)!.waiting).toBe(0);
    expect(snapshot.counters.find((c) => c.counterId === f.counters[1])!.ticket).toBeUndefined();
    expect(updates(counter).map((t) => t.status)).toEqual(['expired', 'expired', 'expired']);

    // the citizen's phone page, in both languages
    const page = await f.app.inject({ method: 'GET', url: `/t/${issued[2]!.publicId}` });
    expect(page.body).toMatch(/<section class="st" id="s-expired">[^<]*<p data-t="expired">Số thứ tự này đã hết hiệu lực/);
    expect((await f.app.inject({ method: 'GET', url: `/api/v1/public/tickets/${issued[2]!.publicId}` })).json()).toMatchObject({ status: 'expired' });

    // the counter is free for the next morning, whose first ticket is today's A001
    clock.set('2026-11-25T00:31:00Z'); // Wednesday 07:31
    const first = (await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT })).json().ticket;
    expect(first.code).toBe(issued[0]!.code);
    expect((await api('POST', `/counters/${f.counters[1]}/call-next`, f.tokens.staff, {})).json().ticket.id).toBe(first.id);
  });
});
