import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, createClient, type QmsSocket } from '@qms/protocol/client';
import { apiFixture, PASSWORD, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';

let f: ApiFixture;
let baseUrl: string;
const sockets: QmsSocket[] = [];

beforeAll(async () => {
  f = await apiFixture({ clock: new TestClock('2026-11-24T02:00:00Z').now });
  await f.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(f.app.server.address() as { port: number }).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await f?.app.close();
  await f?.t.drop();
});

describe('the typed client of @qms/protocol', () => {
  it('drives a whole visit over HTTP and hears it over the socket', async () => {
    const kiosk = createClient({ baseUrl, token: f.tokens.kiosk });
    const official = createClient({ baseUrl });
    const display = createClient({ baseUrl, token: f.tokens.display });

    const { user } = await official.login('canbo1', PASSWORD);
    expect(user.displayName).toBe('Cán bộ canbo1');
    const site = await kiosk.site(f.siteId);
    expect(site.services.map((s) => s.prefix)).toEqual(['A', 'B', 'C', 'D', 'E', 'F']);
    expect(site.services[0]!.procedures.map((p) => p.code)).toContain('1.001193');
    expect(site.priorityGroups.map((g) => g.code)).toContain('elderly');

    const socket = display.connect();
    sockets.push(socket);
    const snapshot = await new Promise((resolve) => socket.once('queue:snapshot', resolve));
    expect(snapshot).toMatchObject({ siteId: f.siteId });

    const ticket = await kiosk.issueTicket(f.siteId, { serviceId: site.services[1]!.id, lang: 'en' });
    expect(ticket).toMatchObject({ code: 'B001', lang: 'en' });
    await official.openCounter(f.counters[2]!);
    const heard = new Promise((resolve) => socket.once('ticket:called', resolve));
    expect((await official.callNext(f.counters[2]!))?.code).toBe('B001');
    expect(await heard).toMatchObject({ ticket: { code: 'B001' }, counter: { number: 2 } });

    const error = await official.start(ticket.id).then(() => official.start(ticket.id)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 409, code: 'TICKET_NOT_CALLED' });
    expect((await official.finish(ticket.id)).status).toBe('done');
    expect(await official.callNext(f.counters[2]!)).toBeNull();
  });

  it('comes back by itself after the server closed its socket, with a fresh snapshot', async () => {
    const display = createClient({ baseUrl, token: f.tokens.display });
    const socket = display.connect();
    sockets.push(socket);
    await new Promise((resolve) => socket.once('queue:snapshot', resolve));
    const again = new Promise((resolve) => socket.once('queue:snapshot', resolve));
    f.app.realtime.io.local.disconnectSockets(true); // what a shutting-down server does
    await expect(Promise.race([again.then(() => 'resynced'), new Promise((r) => setTimeout(() => r('stale'), 8000))])).resolves.toBe('resynced');
    socket.close();
    const reconnected = await new Promise((r) => setTimeout(() => r(socket.connected), 4000));
    expect(reconnected).toBe(false); // a socket its screen closed stays closed
  });
});
