import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFixture, bearer, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';
import { webhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

// What a visit was about: the procedure found at the kiosk (on the ticket, printed, at the
// counter), the procedures and dossier codes the official records while serving, who may record
// them, and a dossier's visits as the dossier system reads them with its own key. Webhooks carry
// the codes. A real PostgreSQL and a real HTTP receiver on 127.0.0.1.

const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Hà Nội: the demo centre is open
const SECRET = 'a-long-webhook-secret-21';
let f: ApiFixture;
let receiver: WebhookReceiver;

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now, config: { rateLimits: false, notifyPollMs: 0 } });
  receiver = await webhookReceiver(SECRET);
  const hook = await api('POST', `/sites/${f.siteId}/webhooks`, f.tokens.manager,
    { url: receiver.url, secret: SECRET, events: ['dossier:recorded', 'ticket:updated', 'rating:created', 'criticism:created'] });
  expect(hook.statusCode, hook.body).toBe(201);
});
afterAll(async () => {
  await f?.app.close();
  await receiver?.close();
  await f?.t.drop();
});

function api(method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH', url: string, token?: string, payload?: object) {
  return f.app.inject({ method, url: `/api/v1${url}`, headers: token ? bearer(token) : {}, ...(payload ? { payload } : {}) });
}
const deliver = () => f.app.services.notificationWorker.runOnce();
const tickets = async () => (await f.t.db.selectFrom('ticket').select('id').execute()).length;

describe('the procedure found at the kiosk', () => {
  it('is kept on the ticket and answered with it, and an unknown one issues nothing', async () => {
    const res = await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT, procedureCode: '1.001193' });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().procedure).toEqual({ code: '1.001193', name: { vi: expect.stringContaining('khai sinh'), en: expect.any(String) } });
    const rows = await f.t.db.selectFrom('ticketProcedure').selectAll().where('ticketId', '=', res.json().ticket.id).execute();
    expect(rows).toEqual([expect.objectContaining({ procedureCode: '1.001193', source: 'kiosk', serviceId: f.services.HT })]);

    const before = await tickets();
    // a procedure of another field, and one nobody lists
    for (const procedureCode of ['2.000815', '9.999999']) {
      const refused = await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT, procedureCode });
      expect(refused.statusCode, procedureCode).toBe(400);
      expect(refused.json().error).toMatchObject({ code: 'UNKNOWN_PROCEDURE', details: { procedureCode } });
    }
    expect((await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT, procedureCode: "1.0'; drop" })).statusCode).toBe(400);
    expect(await tickets()).toBe(before);
  });

  it('comes back with the ticket when the same press is retried', async () => {
    const send = () => f.app.inject({
      method: 'POST', url: `/api/v1/sites/${f.siteId}/tickets`, headers: { ...bearer(f.tokens.kiosk), 'idempotency-key': 'press-procedure-1' },
      payload: { serviceId: f.services.HT, procedureCode: '1.000894' },
    });
    const first = await send();
    const again = await send();
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().ticket.id).toBe(first.json().ticket.id);
    expect(again.json().procedure.code).toBe('1.000894');
    // the same key for another procedure is another press's key
    const other = await f.app.inject({
      method: 'POST', url: `/api/v1/sites/${f.siteId}/tickets`, headers: { ...bearer(f.tokens.kiosk), 'idempotency-key': 'press-procedure-1' },
      payload: { serviceId: f.services.HT, procedureCode: '1.001193' },
    });
    expect(other.statusCode).toBe(409);
    expect(other.json().error.code).toBe('ISSUE_KEY_REUSED');
  });

  it('is kept, and comes back on a retried press, for an official\'s walk-in issue too', async () => {
    const send = () => f.app.inject({
      method: 'POST', url: `/api/v1/sites/${f.siteId}/tickets`, headers: { ...bearer(f.tokens.staff2), 'idempotency-key': 'walk-in-procedure-1' },
      payload: { serviceId: f.services.HT, procedureCode: '1.000656' },
    });
    const first = await send();
    expect(first.statusCode).toBe(201);
    expect(first.json().procedure.code).toBe('1.000656');
    const again = await send();
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().procedure.code).toBe('1.000656');
    expect(await f.t.db.selectFrom('ticketProcedure').select('source').where('ticketId', '=', first.json().ticket.id).execute()).toEqual([{ source: 'counter' }]);
  });
});

describe('a visit at the counter', () => {
  let ticketId: string;
  let firstDossierId: string;

  it('shows the kiosk\'s procedure to the official who called it', async () => {
    const issued = await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.CT, procedureCode: '2.000815' });
    ticketId = issued.json().ticket.id;
    expect((await api('POST', `/counters/${f.counters[3]}/open`, f.tokens.staff)).statusCode).toBe(200);
    clock.advance(300);
    expect((await api('POST', `/tickets/${ticketId}/call`, f.tokens.staff)).statusCode).toBe(200);
    const visit = await api('GET', `/tickets/${ticketId}/visit`, f.tokens.staff);
    expect(visit.statusCode).toBe(200);
    expect(visit.json()).toMatchObject({
      ticket: { id: ticketId, status: 'called' },
      procedures: [{ code: '2.000815', source: 'kiosk', addedAt: expect.stringMatching(/\+07:00$/) }],
      dossiers: [],
    });
    expect((await api('GET', `/tickets/${ticketId}/visit`, f.tokens.otherStaff)).statusCode).toBe(403);
  });

  it('takes the procedures the official sets, all of them, and refuses an unknown one whole', async () => {
    expect((await api('POST', `/tickets/${ticketId}/start`, f.tokens.staff)).statusCode).toBe(200);
    const set = await api('PUT', `/tickets/${ticketId}/procedures`, f.tokens.staff, { codes: ['2.000815', '2.000884'] });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json().procedures.map((p: { code: string; source: string }) => [p.code, p.source])).toEqual([['2.000815', 'kiosk'], ['2.000884', 'counter']]);

    const refused = await api('PUT', `/tickets/${ticketId}/procedures`, f.tokens.staff, { codes: ['2.000884', '7.777777'] });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error).toMatchObject({ code: 'UNKNOWN_PROCEDURE', details: { procedureCodes: ['7.777777'] } });
    // a procedure of another field of the centre is allowed: the citizen asked for it here
    const changed = await api('PUT', `/tickets/${ticketId}/procedures`, f.tokens.staff, { codes: ['2.000884', '1.001193'] });
    expect(changed.json().procedures.map((p: { code: string }) => p.code)).toEqual(['2.000884', '1.001193']); // in the order they were set
    expect((await f.t.db.selectFrom('ticketProcedure').select('procedureCode').where('ticketId', '=', ticketId).execute()).length).toBe(2);
  });

  it('records dossier codes, upper-case and once each, received or returned', async () => {
    const first = await api('POST', `/tickets/${ticketId}/dossiers`, f.tokens.staff, { dossierCode: '000.00.12.h47-261124-0001', direction: 'received' });
    expect(first.statusCode, first.body).toBe(201);
    const again = await api('POST', `/tickets/${ticketId}/dossiers`, f.tokens.staff, { dossierCode: '000.00.12.H47-261124-0001', direction: 'received' });
    expect(again.statusCode).toBe(200); // a double scan records nothing
    const second = await api('POST', `/tickets/${ticketId}/dossiers`, f.tokens.staff, { dossierCode: '000.00.12.H47-261124-0002', direction: 'received' });
    expect(second.statusCode).toBe(201);
    const mistyped = await api('POST', `/tickets/${ticketId}/dossiers`, f.tokens.staff, { dossierCode: 'H47-TYPO', direction: 'returned' });
    const dossiers = mistyped.json().dossiers as { id: string; dossierCode: string; direction: string; recordedBy: { displayName: string } }[];
    expect(dossiers.map((d) => [d.dossierCode, d.direction])).toEqual([
      ['000.00.12.H47-261124-0001', 'received'], ['000.00.12.H47-261124-0002', 'received'], ['H47-TYPO', 'returned'],
    ]);
    expect(dossiers[0]!.recordedBy.displayName).toBe('Cán bộ canbo1');
    firstDossierId = dossiers[0]!.id;

    for (const bad of [{ dossierCode: 'a b', direction: 'received' }, { dossierCode: 'AB', direction: 'received' }, { dossierCode: 'ABC-1', direction: 'lost' }, { dossierCode: 'ABC-1' }]) {
      expect((await api('POST', `/tickets/${ticketId}/dossiers`, f.tokens.staff, bad)).statusCode, JSON.stringify(bad)).toBe(400);
    }
    expect((await api('DELETE', `/tickets/${ticketId}/dossiers/${dossiers[2]!.id}`, f.tokens.staff)).statusCode).toBe(204);
    expect((await api('DELETE', `/tickets/${ticketId}/dossiers/${dossiers[2]!.id}`, f.tokens.staff)).statusCode).toBe(404);
    expect((await f.t.db.selectFrom('ticketDossier').select('dossierCode').where('ticketId', '=', ticketId).execute()).length).toBe(2);
  });

  it('is recorded by its official, that counter\'s device, or a manager, and by nobody else', async () => {
    const body = { dossierCode: 'X-000-1', direction: 'received' };
    // another official of the site, at no counter, then at another counter
    expect((await api('POST', `/tickets/${ticketId}/dossiers`, f.tokens.staff2, body)).json().error.code).toBe('TICKET_NOT_AT_YOUR_COUNTER');
    expect((await api('POST', `/counters/${f.counters[4]}/open`, f.tokens.staff2)).statusCode).toBe(200);
    const other = await api('PUT', `/tickets/${ticketId}/procedures`, f.tokens.staff2, { codes: [] });
    expect(other.statusCode).toBe(409);
    expect(other.json().error.code).toBe('TICKET_NOT_AT_YOUR_COUNTER');
    // counter 1's device, for a ticket at counter 3
    expect((await api('POST', `/tickets/${ticketId}/dossiers`, f.tokens.counterDevice, body)).statusCode).toBe(409);
    // another site's official, and a kiosk: not found / not theirs
    expect((await api('POST', `/tickets/${ticketId}/dossiers`, f.tokens.otherStaff, body)).statusCode).toBe(404);
    expect((await api('POST', `/tickets/${ticketId}/dossiers`, f.tokens.kiosk, body)).statusCode).toBe(404);
    expect((await api('POST', `/tickets/${ticketId}/dossiers`, undefined, body)).statusCode).toBe(401);
    expect((await f.t.db.selectFrom('ticketDossier').select('id').where('dossierCode', '=', 'X-000-1').execute())).toEqual([]);
    // a manager may correct it
    expect((await api('POST', `/tickets/${ticketId}/dossiers`, f.tokens.manager, body)).statusCode).toBe(201);
    expect((await api('DELETE', `/tickets/${ticketId}/dossiers/${firstDossierId}`, f.tokens.otherStaff)).statusCode).toBe(404);
  });

  it('can still be completed just after "finish", and the criticism pressed then is about it', async () => {
    clock.advance(600);
    expect((await api('POST', `/tickets/${ticketId}/finish`, f.tokens.staff)).statusCode).toBe(200);
    const late = await api('POST', `/tickets/${ticketId}/dossiers`, f.tokens.staff, { dossierCode: '000.00.12.H47-261124-0003', direction: 'received' });
    expect(late.statusCode).toBe(201);
    // the official calls the next citizen: the finished one is no longer theirs to edit
    const next = await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.CT });
    expect((await api('POST', `/tickets/${next.json().ticket.id}/call`, f.tokens.staff)).statusCode).toBe(200);
    expect((await api('POST', `/tickets/${ticketId}/dossiers`, f.tokens.staff, { dossierCode: 'LATE-1', direction: 'received' })).statusCode).toBe(409);
    expect((await api('POST', `/tickets/${next.json().ticket.id}/no-show`, f.tokens.staff)).statusCode).toBe(200);

    // a criticism from the counter, after the next citizen did not come
    const criticism = await api('POST', '/alerts/criticism', f.tokens.staff, { comment: 'Phải bổ sung giấy tờ hai lần' });
    expect(criticism.statusCode).toBe(201);
    const alertId = criticism.json().alert.id as string;
    expect((await f.t.db.selectFrom('alert').select('ticketId').where('id', '=', alertId).executeTakeFirstOrThrow()).ticketId).toBe(ticketId); // the citizen just served, not the one who never came
  });
});

describe('a dossier\'s visits, for the dossier system', () => {
  const CODE = '000.00.12.H47-261124-0001';

  it('come back whole, oldest first, to a key with dossiers:read: waits, officials, rating and criticism', async () => {
    // the first visit (submission) was served at counter 3 above; the fixture's rating tablet is
    // counter 1's, so the second visit (collection) is served there, and rated.
    clock.advance(3 * 86_400); // Friday 09:10
    const collect = await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT, procedureCode: '1.001193' });
    const collectId = collect.json().ticket.id as string;
    expect((await api('POST', `/counters/${f.counters[1]}/open`, f.tokens.manager)).statusCode).toBe(200);
    clock.advance(120);
    expect((await api('POST', `/tickets/${collectId}/call`, f.tokens.manager)).statusCode).toBe(200);
    expect((await api('POST', `/tickets/${collectId}/dossiers`, f.tokens.counterDevice, { dossierCode: CODE.toLowerCase(), direction: 'returned' })).statusCode).toBe(201);
    clock.advance(60);
    expect((await api('POST', `/tickets/${collectId}/finish`, f.tokens.manager)).statusCode).toBe(200);
    expect((await api('POST', `/tickets/${collectId}/rating`, f.tokens.rating, { score: 1, reason: 'waiting', comment: 'Chờ lâu' })).statusCode).toBe(201);
    const criticism = await api('POST', '/alerts/criticism', f.tokens.rating, { comment: 'Trả kết quả chậm' });
    const alertId = criticism.json().alert.id as string;
    expect((await api('PATCH', `/alerts/${alertId}/case`, f.tokens.manager, { status: 'investigating' })).statusCode).toBe(200);
    clock.advance(3600);
    expect((await api('PATCH', `/alerts/${alertId}/case`, f.tokens.manager, { status: 'resolved', note: 'Đã xin lỗi công dân' })).statusCode).toBe(200);

    const reader = await api('POST', `/sites/${f.siteId}/integration-keys`, f.tokens.manager, { name: 'Cổng dịch vụ công', scopes: ['dossiers:read'] });
    expect(reader.statusCode).toBe(201);
    expect(reader.json().scopes).toEqual(['dossiers:read']);
    const res = await api('GET', `/sites/${f.siteId}/dossiers/${encodeURIComponent(CODE.toLowerCase())}`, reader.json().key);
    expect(res.statusCode, res.body).toBe(200);
    const lookup = res.json();
    expect(lookup).toMatchObject({ dossierCode: CODE, siteId: f.siteId, resultReadyAt: null });
    expect(lookup.visits).toHaveLength(2);
    const [submit, collected] = lookup.visits;
    expect(submit).toMatchObject({
      directions: ['received'], status: 'done', date: '2026-11-24', counter: { number: 3 },
      procedures: [{ code: '2.000884' }, { code: '1.001193' }], officials: [{ displayName: 'Cán bộ canbo1' }], rating: null,
    });
    expect(submit.waitSeconds).toBeCloseTo(300, 0);
    expect(submit.serviceSeconds).toBeCloseTo(600, 0);
    expect(collected).toMatchObject({
      directions: ['returned'], status: 'done', date: '2026-11-27', counter: { number: 1 }, procedures: [{ code: '1.001193' }],
      officials: [{ displayName: 'Cán bộ manager' }],
      rating: { score: 1, reason: 'waiting', comment: 'Chờ lâu', label: { vi: expect.any(String), en: expect.any(String) }, official: { displayName: 'Cán bộ manager' } },
      criticisms: [{ alertId, comment: 'Trả kết quả chậm', status: 'resolved', resolutionNote: 'Đã xin lỗi công dân', resolvedAt: expect.stringMatching(/\+07:00$/) }],
    });
    expect(collected.waitSeconds).toBeCloseTo(120, 0);
    expect(collected.serviceSeconds).toBeCloseTo(60, 0);

    // the dossier system's "result ready" shows on the record (recorded only: no phone or email given)
    const writer = await api('POST', `/sites/${f.siteId}/integration-keys`, f.tokens.manager, { name: 'Hệ thống một cửa' });
    expect(writer.json().scopes).toEqual(['dossier-results:write']);
    const ready = await api('POST', `/sites/${f.siteId}/dossier-results`, writer.json().key, { dossierCode: CODE.toLowerCase() });
    expect(ready.statusCode, ready.body).toBe(202);
    expect(ready.json()).toMatchObject({ dossierCode: CODE, messages: 0, replayed: false });
    expect((await api('GET', `/sites/${f.siteId}/dossiers/${CODE}`, f.tokens.manager)).json().resultReadyAt).toMatch(/\+07:00$/);
  });

  it('are refused without a key, with a key that may not read, or another site\'s key, and not found for a code never recorded', async () => {
    const writer = await api('POST', `/sites/${f.siteId}/integration-keys`, f.tokens.manager, { name: 'writer only' });
    const other = await api('POST', `/sites/${f.otherSiteId}/integration-keys`, f.tokens.admin, { name: 'other', scopes: ['dossiers:read'] });
    const path = `/sites/${f.siteId}/dossiers/${CODE}`;
    expect((await api('GET', path)).json().error.code).toBe('INVALID_INTEGRATION_KEY');
    const denied = await api('GET', path, writer.json().key);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('INSUFFICIENT_SCOPE');
    expect((await api('GET', path, other.json().key)).statusCode).toBe(401);
    expect((await api('GET', path, f.tokens.staff)).statusCode).toBe(401); // officials read visits at the counter, not dossiers
    expect((await api('GET', `/sites/${f.siteId}/dossiers/NEVER-SEEN-1`, f.tokens.manager)).json().error.code).toBe('DOSSIER_NOT_FOUND');
    expect((await api('GET', `/sites/${f.siteId}/dossiers/${encodeURIComponent('a b')}`, f.tokens.manager)).statusCode).toBe(400);
    // a key with both scopes also records results
    const both = await api('POST', `/sites/${f.siteId}/integration-keys`, f.tokens.manager, { name: 'both', scopes: ['dossiers:read', 'dossier-results:write'] });
    expect((await api('GET', path, both.json().key)).statusCode).toBe(200);
    expect((await api('POST', `/sites/${f.siteId}/integration-keys`, f.tokens.manager, { name: 'x', scopes: ['everything'] })).statusCode).toBe(400);
    expect((await api('GET', `/sites/${f.siteId}/integration-keys`, f.tokens.manager)).json().keys.map((k: { scopes: string[] }) => k.scopes))
      .toContainEqual(['dossiers:read', 'dossier-results:write']);
  });

  it('reach webhooks: dossier:recorded with the code, and ticket, rating and criticism events with procedures and dossiers', async () => {
    await deliver();
    const recorded = receiver.events.filter((e) => e.type === 'dossier:recorded');
    expect(recorded.map((e) => (e.data.dossier as { dossierCode: string }).dossierCode)).toEqual(expect.arrayContaining([
      '000.00.12.H47-261124-0001', '000.00.12.H47-261124-0002', '000.00.12.H47-261124-0003',
    ]));
    const returned = recorded.find((e) => (e.data.dossier as { direction: string; dossierCode: string }).direction === 'returned' && (e.data.dossier as { dossierCode: string }).dossierCode === CODE)!;
    expect(returned.data.ticket).toMatchObject({ code: expect.stringMatching(/^A\d{3}$/), procedures: [{ code: '1.001193' }] });

    const finished = receiver.events.filter((e) => e.type === 'ticket:updated' && (e.data.ticket as { status: string }).status === 'done');
    expect(finished.some((e) => (e.data.ticket as { dossiers: { dossierCode: string }[] }).dossiers.some((d) => d.dossierCode === CODE))).toBe(true);
    const rating = receiver.events.find((e) => e.type === 'rating:created')!;
    expect(rating.data.ticket).toMatchObject({ dossiers: [{ dossierCode: CODE, direction: 'returned' }] });
    const criticisms = receiver.events.filter((e) => e.type === 'criticism:created');
    expect(criticisms.some((e) => (e.data.ticket as { dossiers: { dossierCode: string }[] } | undefined)?.dossiers.some((d) => d.dossierCode === CODE))).toBe(true);
  });
});
