import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFixture, bearer, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';

// Every route against every kind of credential. 'ok' means the request got past authorisation
// (2xx, or 409 when the state refuses it); the others are the exact refusal expected.

type Who = 'none' | 'admin' | 'manager' | 'staff' | 'staff2' | 'otherStaff' | 'kiosk' | 'display' | 'counterDevice' | 'rating' | 'otherKiosk';
type Expect = 'ok' | 401 | 403 | 404 | 409;
const WHO: Who[] = ['none', 'admin', 'manager', 'staff', 'staff2', 'otherStaff', 'kiosk', 'display', 'counterDevice', 'rating', 'otherKiosk'];

interface Route {
  name: string;
  request: () => Promise<{ method: 'GET' | 'POST' | 'DELETE'; url: string; payload?: object }>;
  /** who gets 'ok'; everyone else gets `deny` (401 without a token) unless overridden */
  allowed: Who[];
  overrides?: Partial<Record<Who, Expect>>;
  deny?: Expect;
}

let f: ApiFixture;
let ticketId: string;
let publicId: string;
const clock = new TestClock('2026-11-24T02:00:00Z');
let serial = 0;

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now });
  const post = (url: string, token: string, payload: object = {}) => f.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: bearer(token), payload });
  const issued = (await post(`/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT })).json();
  ticketId = issued.ticket.id;
  publicId = issued.ticket.publicId;
  await post(`/counters/${f.counters[1]}/open`, f.tokens.staff);
  await post(`/counters/${f.counters[1]}/call-next`, f.tokens.staff);
});
afterAll(async () => {
  await f?.app.close();
  await f?.t.drop();
});

const siteA = () => f.siteId;
const ROUTES: Route[] = [
  { name: 'GET /sites', request: async () => ({ method: 'GET', url: '/sites' }), allowed: WHO.filter((w) => w !== 'none') },
  { name: 'POST /sites', request: async () => ({ method: 'POST', url: '/sites', payload: { code: `S${serial++}`, name: 'New' } }), allowed: ['admin'], deny: 403 },
  { name: 'GET /sites/:id', request: async () => ({ method: 'GET', url: `/sites/${siteA()}` }), allowed: ['admin', 'manager', 'staff', 'staff2', 'kiosk', 'display', 'counterDevice', 'rating'], deny: 403 },
  { name: 'GET /sites/:id/services', request: async () => ({ method: 'GET', url: `/sites/${siteA()}/services` }), allowed: ['admin', 'manager', 'staff', 'staff2', 'kiosk', 'display', 'counterDevice', 'rating'], deny: 403 },
  { name: 'POST /sites/:id/services', request: async () => ({ method: 'POST', url: `/sites/${siteA()}/services`, payload: { code: `X${serial}`, name: { vi: 'x', en: 'x' }, prefix: `X${(serial++).toString(36).toUpperCase()}` } }), allowed: ['admin', 'manager'], deny: 403 },
  { name: 'POST /sites/:id/counters', request: async () => ({ method: 'POST', url: `/sites/${siteA()}/counters`, payload: { number: 100 + serial++, name: 'Quầy', serviceIds: [] } }), allowed: ['admin', 'manager'], deny: 403 },
  { name: 'POST /sites/:id/staff', request: async () => ({ method: 'POST', url: `/sites/${siteA()}/staff`, payload: { username: `u${serial++}`, password: 'password-123', displayName: 'U', role: 'staff' } }), allowed: ['admin', 'manager'], deny: 403 },
  { name: 'POST /sites/:id/devices', request: async () => ({ method: 'POST', url: `/sites/${siteA()}/devices`, payload: { kind: 'kiosk', name: 'k' } }), allowed: ['admin', 'manager'], deny: 403 },
  {
    name: 'DELETE /devices/:id',
    request: async () => {
      const created = await f.app.inject({ method: 'POST', url: `/api/v1/sites/${siteA()}/devices`, headers: bearer(f.tokens.admin), payload: { kind: 'display', name: 'd' } });
      return { method: 'DELETE', url: `/devices/${created.json().device.id}` };
    },
    allowed: ['admin', 'manager'], deny: 403,
  },
  { name: 'POST /sites/:id/tickets', request: async () => ({ method: 'POST', url: `/sites/${siteA()}/tickets`, payload: { serviceId: f.services.CT } }), allowed: ['admin', 'manager', 'staff', 'staff2', 'kiosk'], deny: 403 },
  { name: 'GET /tickets/:id', request: async () => ({ method: 'GET', url: `/tickets/${ticketId}` }), allowed: ['admin', 'manager', 'staff', 'staff2', 'counterDevice'], deny: 403 },
  {
    name: 'POST /counters/:id/call-next', request: async () => ({ method: 'POST', url: `/counters/${f.counters[1]}/call-next`, payload: {} }),
    // the counter is busy with the called ticket: its official and its device get 409 COUNTER_BUSY
    allowed: ['staff', 'counterDevice'], deny: 403,
  },
  {
    name: 'POST /tickets/:id/recall', request: async () => ({ method: 'POST', url: `/tickets/${ticketId}/recall`, payload: {} }),
    allowed: ['staff', 'counterDevice'], deny: 403,
    // officials who work no counter are told so; staff of another site do not learn the ticket exists
    overrides: { admin: 409, manager: 409, staff2: 409, otherStaff: 404 },
  },
  {
    name: 'POST /tickets/:id/rating', request: async () => ({ method: 'POST', url: `/tickets/${ticketId}/rating`, payload: { score: 3 } }),
    allowed: ['rating'], deny: 403,
  },
  { name: 'GET /sites/:id/queue', request: async () => ({ method: 'GET', url: `/sites/${siteA()}/queue` }), allowed: ['admin', 'manager', 'staff', 'staff2', 'kiosk', 'display', 'counterDevice', 'rating'], deny: 403 },
  { name: 'GET /public/tickets/:publicId', request: async () => ({ method: 'GET', url: `/public/tickets/${publicId}` }), allowed: WHO },
  {
    name: 'POST /counters/:id/open', request: async () => ({ method: 'POST', url: `/counters/${f.counters[6]}/open`, payload: {} }),
    // staff is busy at counter 1 (409); the rest of site A's people may open it
    allowed: ['admin', 'manager', 'staff', 'staff2'], deny: 403,
  },
];

describe('authorisation matrix', () => {
  const cases = ROUTES.flatMap((route) => WHO.map((who) => ({ route, who })));

  it.each(cases.map((c) => [c.route.name, c.who, c] as const))('%s as %s', async (_n, _w, { route, who }) => {
    const expected: Expect = route.allowed.includes(who) ? 'ok' : route.overrides?.[who] ?? (who === 'none' ? 401 : route.deny ?? 403);
    const { method, url, payload } = await route.request();
    const token = who === 'none' ? undefined : f.tokens[who];
    const res = await f.app.inject({ method, url: `/api/v1${url}`, headers: token ? bearer(token) : {}, ...(payload ? { payload } : {}) });
    if (expected === 'ok') {
      expect([res.statusCode, res.body]).toSatisfy(([status]) => (status as number) < 400 || status === 409);
    } else {
      expect(res.statusCode, res.body).toBe(expected);
    }
  });

  // The matrix left counter 6 open by the admin (the first allowed caller).
  it('a rating device cannot rate a ticket served at another counter', async () => {
    const post = (url: string, token: string, payload: object = {}) => f.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: bearer(token), payload });
    const { ticket } = (await post(`/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.CA })).json();
    expect((await post(`/counters/${f.counters[6]}/call-next`, f.tokens.admin)).json().ticket.id).toBe(ticket.id);
    expect((await post(`/tickets/${ticket.id}/finish`, f.tokens.admin)).json().ticket.status).toBe('done');
    const res = await post(`/tickets/${ticket.id}/rating`, f.tokens.rating, { score: 3 }); // rating device of counter 1
    expect(res.statusCode).toBe(403);
    expect(await f.t.db.selectFrom('rating').select('id').where('ticketId', '=', ticket.id).execute()).toEqual([]);
  });
});
