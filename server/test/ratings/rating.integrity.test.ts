import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { apiFixture, http, listenLocally, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';
import { nextEvent, SocketClients } from '../support/sockets.ts';

// Who may rate what, over real HTTP and sockets. Found in use: after D001 and D002 were served at
// a counter, its tablet could still rate D001, so an official could rate their own unrated
// tickets. A tablet rates only the ticket its counter finished last (its last rating:requested),
// and only within the window after finishing (QMS_RATING_WINDOW_SECONDS, 300 s by default); the
// phone page rates its own ticket within the same window. Whoever rates first, the other side
// hears of it (rating:created to the counter's devices, `rated` on the public ticket).

let f: ApiFixture;
let base: string;
const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Ho Chi Minh City: the demo centre is open
const sockets = new SocketClients(() => base);

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now });
  base = await listenLocally(f.app);
  await http(base, 'POST', `/counters/${f.counters[1]}/open`, f.tokens.staff);
});
afterEach(() => sockets.closeAll());
afterAll(async () => {
  await f?.app.close();
  await f?.t.drop();
});

/** A HT ticket issued, called and finished at counter 1 (it serves HT only; nothing else waits). */
async function served() {
  const issued = await http(base, 'POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT });
  expect(issued.status).toBe(201);
  const called = await http(base, 'POST', `/counters/${f.counters[1]}/call-next`, f.tokens.staff);
  expect(called.body.ticket.id).toBe(issued.body.ticket.id);
  clock.advance(30);
  expect((await http(base, 'POST', `/tickets/${called.body.ticket.id}/finish`, f.tokens.staff)).status).toBe(200);
  return issued.body.ticket as { id: string; publicId: string; code: string };
}
const tablet = (ticketId: string, score = 3) => http(base, 'POST', `/tickets/${ticketId}/rating`, f.tokens.rating, { score });
const phone = (publicId: string, score = 3) => http(base, 'POST', `/public/tickets/${publicId}/rating`, undefined, { score });
const ratings = (ticketId: string) => f.t.db.selectFrom('rating').select(['score', 'channel']).where('ticketId', '=', ticketId).execute();

describe('the rating tablet', () => {
  it('rates only the ticket its counter finished last: D001 is refused once D002 is finished', async () => {
    const d1 = await served();
    clock.advance(10);
    const d2 = await served();

    const refused = await tablet(d1.id, 1);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'RATING_NOT_OFFERED', details: { code: d1.code, lastCode: d2.code } });
    expect(await ratings(d1.id)).toEqual([]);

    expect((await tablet(d2.id)).status).toBe(201);
    // D002 rated does not make D001 the one to rate
    expect((await tablet(d1.id, 1)).body.error.code).toBe('RATING_NOT_OFFERED');
    expect(await ratings(d1.id)).toEqual([]);
    // what a reconnecting tablet asks about: nothing (D002 is rated, D001 is not offered)
    expect((await http(base, 'GET', `/counters/${f.counters[1]}/rating-request`, f.tokens.rating)).status).toBe(204);
  });

  it('rates within 300 s of finishing, and then no more (RATING_WINDOW_CLOSED)', async () => {
    const a = await served();
    clock.advance(299.9); // (the test clock moves a millisecond at each reading)
    expect((await http(base, 'GET', `/counters/${f.counters[1]}/rating-request`, f.tokens.rating)).body).toMatchObject({ ticketId: a.id });
    expect((await tablet(a.id)).status).toBe(201);

    const b = await served();
    clock.advance(301);
    expect((await http(base, 'GET', `/counters/${f.counters[1]}/rating-request`, f.tokens.rating)).status).toBe(204);
    const late = await tablet(b.id);
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({ code: 'RATING_WINDOW_CLOSED', details: { code: b.code } });
    expect(await ratings(b.id)).toEqual([]);
  });

  it('the window is QMS_RATING_WINDOW_SECONDS', () => {
    expect(loadConfig({}).ratingWindowSeconds).toBe(300);
    expect(loadConfig({ QMS_RATING_WINDOW_SECONDS: '90' }).ratingWindowSeconds).toBe(90);
    for (const bad of ['0', '-5', 'five', '1.5']) expect(() => loadConfig({ QMS_RATING_WINDOW_SECONDS: bad })).toThrow(/QMS_RATING_WINDOW_SECONDS/);
  });
});

describe('the phone page and the tablet, on one ticket', () => {
  it('the phone rates its own ticket though another was finished after it, within the window only', async () => {
    const mine = await served();
    clock.advance(5);
    const next = await served();
    expect((await phone(mine.publicId, 2)).status).toBe(201);
    expect(await ratings(mine.id)).toEqual([{ score: 2, channel: 'phone' }]);

    clock.advance(301);
    const late = await phone(next.publicId);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('RATING_WINDOW_CLOSED');
    // too late: the public ticket no longer offers it
    const view = await http(base, 'GET', `/public/tickets/${next.publicId}`);
    expect(view.body).toMatchObject({ status: 'done', rated: false });
    expect(view.body.ratingOpenUntil).toBeUndefined();
    // and the page says so instead of offering its form
    const html = (await f.app.inject({ method: 'GET', url: `/t/${next.publicId}` })).body;
    expect(html).toContain('<div id="rate" hidden>');
    expect(html).toContain('<p data-t="closed" id="closed" class="msg">Đã hết thời gian đánh giá số thứ tự này.</p>');
    expect(html).toContain('"closed":"The time to rate this ticket has passed."');
  });

  it('rated on the tablet: the public ticket says so and the phone is refused; the counter hears rating:created', async () => {
    const ticket = await served();
    const open = await http(base, 'GET', `/public/tickets/${ticket.publicId}`);
    expect(open.body).toMatchObject({ status: 'done', rated: false });
    const { finishedAt } = await f.t.db.selectFrom('ticket').select('finishedAt').where('id', '=', ticket.id).executeTakeFirstOrThrow();
    expect(new Date(open.body.ratingOpenUntil).getTime()).toBe(finishedAt!.getTime() + 300_000);

    const counterScreen = await sockets.listen({ token: f.tokens.rating });
    const heard = nextEvent(counterScreen.socket, 'rating:created');
    expect((await tablet(ticket.id)).status).toBe(201);
    expect(await heard).toEqual({ ticketId: ticket.id, counterId: f.counters[1], channel: 'tablet' });

    const after = await http(base, 'GET', `/public/tickets/${ticket.publicId}`);
    expect(after.body).toMatchObject({ status: 'done', rated: true });
    expect(after.body.ratingOpenUntil).toBeUndefined();
    const refused = await phone(ticket.publicId, 1);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('ALREADY_RATED');
    expect(await ratings(ticket.id)).toEqual([{ score: 3, channel: 'tablet' }]);
  });

  it('rated on the phone: the tablet hears rating:created (channel phone), and its late tap answers ALREADY_RATED', async () => {
    const ticket = await served();
    const tabletSocket = await sockets.listen({ token: f.tokens.rating });
    const display = await sockets.listen({ token: f.tokens.display });
    const heard = nextEvent(tabletSocket.socket, 'rating:created');
    expect((await phone(ticket.publicId, 2)).status).toBe(201);
    expect(await heard).toEqual({ ticketId: ticket.id, counterId: f.counters[1], channel: 'phone' });

    const late = await tablet(ticket.id);
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({ code: 'ALREADY_RATED', details: { channel: 'phone' } });
    expect(await ratings(ticket.id)).toEqual([{ score: 2, channel: 'phone' }]);
    // the counter's own devices only: the wall display is not told
    expect(display.events.map((e) => e.name)).not.toContain('rating:created');
  });
});
