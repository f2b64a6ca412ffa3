import net from 'node:net';
import jsQR from 'jsqr';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bitmapToRgba, decodeEscPos, type MonoBitmap, type PrinterTransport } from '@qms/hardware';
import { startTestPrinter, type TestPrinter } from '@qms/hardware/testing';
import { normalise, ocr } from '@qms/hardware/testing/ocr';
import { phoneUrl, publicBaseUrl } from '../../src/printing/phone-url.ts';
import { TicketPrinter } from '../../src/printing/ticket-printer.service.ts';
import { apiFixture, bearer, count, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';

let f: ApiFixture;
let printer: TestPrinter;
const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Hà Nội: the demo centre is open

beforeAll(async () => {
  [f, printer] = await Promise.all([apiFixture({ clock: clock.now, allowLoopbackPrinters: true }), startTestPrinter()]);
});
afterAll(async () => {
  await f?.app.close();
  await f?.t.drop();
  await printer?.close();
});
beforeEach(() => {
  printer.clear();
  printer.setState({ online: true, paperOut: false, paperLow: false, coverOpen: false, silent: false });
});

const api = (method: 'GET' | 'POST' | 'PUT', url: string, token?: string, payload?: unknown) =>
  f.app.inject({
    method, url: `/api/v1${url}`, headers: token ? bearer(token) : {},
    ...(payload !== undefined ? { payload: JSON.stringify(payload), headers: { ...(token ? bearer(token) : {}), 'content-type': 'application/json' } } : {}),
  });
const setPrinter = (body: unknown, token = f.tokens.manager, deviceId = f.deviceIds.kiosk!) => api('PUT', `/devices/${deviceId}/printer`, token, body);
const issue = (token = f.tokens.kiosk, serviceCode = 'HT') => api('POST', `/sites/${f.siteId}/tickets`, token, { serviceId: f.services[serviceCode] });

const readQr = (image: MonoBitmap) => jsQR(bitmapToRgba(image), image.width, image.height)?.data ?? null;

/** The last print job the test printer received (each job follows its own status check). */
function lastJob() {
  const jobs = printer.connections().map((bytes) => decodeEscPos(bytes)).filter((job) => job.image);
  return jobs.at(-1);
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('PUT /api/v1/devices/:deviceId/printer', () => {
  it('lets a manager of the site set, read and remove a kiosk printer', async () => {
    const set = await setPrinter({ kind: 'tcp', host: '192.168.1.50', port: 9100, widthDots: 384 });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toEqual({ deviceId: f.deviceIds.kiosk, printer: { kind: 'tcp', host: '192.168.1.50', port: 9100, widthDots: 384 } });
    expect((await api('GET', `/devices/${f.deviceIds.kiosk}/printer`, f.tokens.admin)).json().printer).toMatchObject({ host: '192.168.1.50' });
    const removed = await setPrinter(null);
    expect(removed.statusCode).toBe(200);
    expect(removed.json()).toEqual({ deviceId: f.deviceIds.kiosk, printer: null });
    const device = await f.t.db.selectFrom('device').select('settings').where('id', '=', f.deviceIds.kiosk!).executeTakeFirstOrThrow();
    expect(device.settings).toEqual({});
  });

  it('is refused to anyone but a manager of that site, and for devices that are not kiosks', async () => {
    const body = { kind: 'tcp', host: 'printer.local' };
    expect((await setPrinter(body, f.tokens.staff)).statusCode).toBe(403);
    expect((await setPrinter(body, f.tokens.kiosk)).statusCode).toBe(403);
    expect((await setPrinter(body, f.tokens.manager, f.deviceIds.otherKiosk)).statusCode).toBe(403);
    expect((await api('PUT', `/devices/${f.deviceIds.kiosk}/printer`, undefined, body)).statusCode).toBe(401);
    const display = await setPrinter(body, f.tokens.manager, f.deviceIds.display);
    expect(display.statusCode).toBe(400);
    expect(display.json().error.code).toBe('NOT_A_KIOSK');
    expect((await setPrinter(body, f.tokens.manager, '00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
  });

  it('is described in the OpenAPI document, with the extension fields of the issue reply', async () => {
    const doc = (await f.app.inject({ method: 'GET', url: '/api/docs/json' })).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([
      '/api/v1/devices/{deviceId}/printer', '/api/v1/devices/{deviceId}/printer/test', '/api/v1/public/tickets/{publicId}/rating',
    ]));
    const issued = doc.paths['/api/v1/sites/{siteId}/tickets'].post.responses['201'].content['application/json'].schema;
    expect(Object.keys(issued.properties)).toEqual(['ticket', 'procedure', 'print', 'phoneUrl']);
  });

  it('validates the printer against its schema', async () => {
    for (const body of [
      {}, { kind: 'usb', path: '/dev/usb/lp0' }, { kind: 'tcp' }, { kind: 'tcp', host: '' }, { kind: 'tcp', host: 'http://evil/x' },
      { kind: 'tcp', host: 'a b' }, { kind: 'tcp', host: 'p', port: 0 }, { kind: 'tcp', host: 'p', port: 70000 },
      { kind: 'tcp', host: 'p', widthDots: 500 }, { kind: 'tcp', host: 'p', extra: true }, 'tcp://p:9100', 42,
      { kind: 'agent', path: '/dev/usb/lp0' }, { kind: 'agent', deviceId: 'kiosk-1' }, { kind: 'agent', host: 'p' },
    ]) {
      const res = await setPrinter(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await f.t.db.selectFrom('device').select('settings').where('id', '=', f.deviceIds.kiosk!).executeTakeFirstOrThrow()).settings).toEqual({});
  });
});

describe('tickets printed on the kiosk network printer', () => {
  it('prints the ticket whose QR code is the phone page, and says so in the 201', async () => {
    expect((await setPrinter({ kind: 'tcp', host: printer.host, port: printer.port })).statusCode).toBe(200);
    const res = await issue();
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.print).toEqual({ status: 'sent' });
    expect(body.ticket).toMatchObject({ code: 'A001', status: 'waiting', position: 0 });
    expect(body.phoneUrl).toBe(`http://localhost:80/t/${body.ticket.publicId}`);
    expect(JSON.stringify(body)).not.toContain(String(printer.port));

    await printer.waitForJobs(2);
    const job = lastJob()!;
    expect(job.cut).toBe(true);
    expect(job.image!.width).toBe(576);
    expect(readQr(job.image!)).toBe(body.phoneUrl);
    // the QR opens the phone page of that same ticket
    const phone = await f.app.inject({ method: 'GET', url: new URL(body.phoneUrl).pathname });
    expect(phone.statusCode).toBe(200);
    expect(phone.body).toContain(`<p class="code" id="code">A001</p>`);
  });

  it('with no counter open for the service, the paper says nobody serves yet, in Vietnamese and English', async () => {
    await setPrinter({ kind: 'tcp', host: printer.host, port: printer.port });
    const body = (await issue(f.tokens.kiosk, 'DD')).json();
    expect(body.ticket).toMatchObject({ status: 'waiting', position: 0, estimatedWaitSeconds: 0, noCounterOpen: true });
    await printer.waitForJobs(2);
    // read from the pixels the printer received, as a citizen reads the paper
    const text = normalise(await ocr(lastJob()!.image!));
    expect(text).toContain('Chưa có quầy phục vụ');
    expect(text).toMatch(/no counter is serving yet/i);
    expect(text).not.toMatch(/dưới 1 phút|under 1 min/);
  });

  it('prints the procedure found at the kiosk, as the citizen reads the paper', async () => {
    await setPrinter({ kind: 'tcp', host: printer.host, port: printer.port });
    const res = await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT, procedureCode: '1.001193' });
    expect(res.statusCode).toBe(201);
    expect(res.json().print).toEqual({ status: 'sent' });
    await printer.waitForJobs(2);
    const text = normalise(await ocr(lastJob()!.image!));
    expect(text).toContain('Thủ tục 1.001193');
    expect(text).toContain('Đăng ký khai sinh');
  });

  it('marks a ticket checked in from a booking, or taken from away, on the paper', async () => {
    await setPrinter({ kind: 'tcp', host: printer.host, port: printer.port });
    let bytes: Uint8Array | undefined;
    const capture: PrinterTransport = {
      status: async () => ({ online: true, paperOut: false }),
      write: async (job) => void (bytes = job),
      close: async () => {},
    };
    const service = new TicketPrinter({ db: f.t.db, transport: () => capture });
    const ticket = (await issue(f.tokens.staff)).json().ticket;
    // what the kiosk's check-in hands the printer: the ticket as mapped, with its booking
    const booked = { ...ticket, booking: { kind: 'slot', slotAt: '2026-11-24T02:00:00.000Z' } };
    expect(await service.printIssued({ ticket: booked, deviceId: f.deviceIds.kiosk!, url: 'http://x/t/y' })).toEqual({ status: 'sent' });
    const text = normalise(await ocr(decodeEscPos(bytes!).image!));
    expect(text).toContain('BOOKED');
    expect(text).toContain('booked 09:00');
    const remote = { ...ticket, booking: { kind: 'remote', slotAt: '2026-11-24T01:30:00.000Z' } };
    expect(await service.printIssued({ ticket: remote, deviceId: f.deviceIds.kiosk!, url: 'http://x/t/y' })).toEqual({ status: 'sent' });
    expect(normalise(await ocr(decodeEscPos(bytes!).image!))).toContain('REMOTE');
  });

  it('prints at the configured width', async () => {
    await setPrinter({ kind: 'tcp', host: printer.host, port: printer.port, widthDots: 384 });
    const body = (await issue()).json();
    expect(body.print).toEqual({ status: 'sent' });
    await printer.waitForJobs(2);
    expect(lastJob()!.image!.width).toBe(384);
    expect(readQr(lastJob()!.image!)).toBe(body.phoneUrl);
    await setPrinter({ kind: 'tcp', host: printer.host, port: printer.port });
  });

  it('out of paper: the ticket is issued, the reply says why it did not print, and staff get one alert', async () => {
    printer.setState({ paperOut: true });
    const tickets = await count(f.t.db, 'ticket');
    const res = await issue();
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.print).toEqual({ status: 'failed', reason: 'paper_out' });
    expect(body.phoneUrl).toMatch(/\/t\/[A-Za-z0-9_-]{20,}$/);
    expect(await count(f.t.db, 'ticket')).toBe(tickets + 1);
    expect((await f.t.db.selectFrom('ticket').select('status').where('id', '=', body.ticket.id).executeTakeFirstOrThrow()).status).toBe('waiting');
    expect(lastJob()).toBeUndefined(); // nothing but status requests reached the printer

    const alerts = await f.t.db.selectFrom('alert').selectAll().where('kind', '=', 'printer').execute();
    expect(alerts).toEqual([expect.objectContaining({
      siteId: f.siteId, deviceId: f.deviceIds.kiosk, ticketId: body.ticket.id, acknowledgedAt: null,
      data: expect.objectContaining({ reason: 'paper_out', ticketCode: body.ticket.code, count: 1 }),
    })]);

    // every ticket fails until someone brings paper: still one alert, counting
    const second = (await issue()).json();
    expect(second.print).toEqual({ status: 'failed', reason: 'paper_out' });
    const merged = await f.t.db.selectFrom('alert').select('data').where('kind', '=', 'printer').execute();
    expect(merged).toEqual([{ data: expect.objectContaining({ reason: 'paper_out', count: 2, lastTicketCode: second.ticket.code }) }]);

    printer.setState({ paperOut: false });
    expect((await issue()).json().print).toEqual({ status: 'sent' });
  });

  it('offline: reports it, and records its own alert', async () => {
    await setPrinter({ kind: 'tcp', host: '127.0.0.1', port: await closedPort() });
    const body = (await issue()).json();
    expect(body.print).toEqual({ status: 'failed', reason: 'offline' });
    const alert = await f.t.db.selectFrom('alert').select('data').where('kind', '=', 'printer').where('ticketId', '=', body.ticket.id).executeTakeFirstOrThrow();
    expect(alert.data).toMatchObject({ reason: 'offline', printer: expect.stringMatching(/^tcp:\/\/127\.0\.0\.1:\d+$/) });
    await setPrinter({ kind: 'tcp', host: printer.host, port: printer.port });
  });

  it('paper running low: prints, and tells staff', async () => {
    printer.setState({ paperLow: true });
    const body = (await issue()).json();
    expect(body.print).toEqual({ status: 'sent' });
    expect(await f.t.db.selectFrom('alert').select('data').where('kind', '=', 'printer').where('ticketId', '=', body.ticket.id).execute())
      .toEqual([{ data: expect.objectContaining({ reason: 'paper_low' }) }]);
  });

  it('prints nothing for staff-issued tickets or kiosks without a printer', async () => {
    const staff = (await issue(f.tokens.staff)).json();
    expect(staff.print).toEqual({ status: 'none' });
    expect(staff.phoneUrl).toBe(`http://localhost:80/t/${staff.ticket.publicId}`);
    await setPrinter(null);
    expect((await issue()).json().print).toEqual({ status: 'none' });
    expect(printer.connections()).toEqual([]);
  });

  it('a kiosk\'s next ticket follows its printer at once: set, removed, or claimed by its site agent (the printer comes with its token)', async () => {
    await setPrinter(null);
    expect((await issue()).json().print).toEqual({ status: 'none' }); // the kiosk's token is resolved, and remembered, with no printer
    expect((await setPrinter({ kind: 'tcp', host: printer.host, port: printer.port })).statusCode).toBe(200);
    expect((await issue()).json().print).toEqual({ status: 'sent' });
    expect(lastJob()?.image).toBeTruthy();
    await setPrinter(null);
    printer.clear();
    expect((await issue()).json().print).toEqual({ status: 'none' });
    expect(printer.connections()).toEqual([]);
    // the agent claims it: no agent socket is connected here, so the paper fails offline, at once
    expect((await api('POST', '/devices/me/printer/status', f.tokens.kiosk, { state: 'ready', claim: true })).json().driving).toBe(true);
    expect((await issue()).json().print).toEqual({ status: 'failed', reason: 'offline' });
    await setPrinter(null);
  });

  it('prints a sample ticket on request of a manager', async () => {
    await setPrinter({ kind: 'tcp', host: printer.host, port: printer.port });
    const res = await api('POST', `/devices/${f.deviceIds.kiosk}/printer/test`, f.tokens.manager, {});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'sent' });
    await printer.waitForJobs(2);
    expect(readQr(lastJob()!.image!)).toBe('http://localhost:80/t/test-print');
    expect((await api('POST', `/devices/${f.deviceIds.kiosk}/printer/test`, f.tokens.staff, {})).statusCode).toBe(403);
  });
});

describe('a failed test print does not map the network', () => {
  /** A service of another kind on 127.0.0.1 (loopback is allowed for this app only: see the fixture). */
  async function otherService(behave: (socket: net.Socket) => void): Promise<net.Server> {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      behave(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  }
  const portOf = (server: net.Server) => (server.address() as net.AddressInfo).port;

  it('answers the same, after the same time, for a closed port and any non-printer service', async () => {
    await f.t.db.deleteFrom('alert').where('kind', '=', 'printer').execute();
    const services = {
      ssh: await otherService((socket) => socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n')),
      http: await otherService((socket) => socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'))),
      resets: await otherService((socket) => socket.once('data', () => socket.resetAndDestroy())),
    };
    const targets: [string, { host: string; port: number }][] = [
      ['closed port', { host: '127.0.0.1', port: await closedPort() }],
      ...Object.entries(services).map(([name, server]) => [name, { host: '127.0.0.1', port: portOf(server) }] as [string, { host: string; port: number }]),
    ];
    const answers: Record<string, unknown> = {};
    const tookMs: Record<string, number> = {};
    try {
      for (const [name, target] of targets) {
        expect((await setPrinter({ kind: 'tcp', ...target })).statusCode, name).toBe(200);
        const started = Date.now();
        answers[name] = (await api('POST', `/devices/${f.deviceIds.kiosk}/printer/test`, f.tokens.manager, {})).json();
        tookMs[name] = Date.now() - started;
      }
    } finally {
      for (const server of Object.values(services)) server.close();
    }
    expect(answers).toEqual(Object.fromEntries(targets.map(([name]) => [name, { status: 'failed', reason: 'offline' }])));
    // each no quicker than a printer that is switched off (the connect timeout)
    for (const [name, ms] of Object.entries(tookMs)) expect(ms, name).toBeGreaterThanOrEqual(1900);
    // and the alerts say no more than the reply
    const alerts = await f.t.db.selectFrom('alert').select('data').where('kind', '=', 'printer').where('deviceId', '=', f.deviceIds.kiosk!).execute();
    expect(new Set(alerts.map((a) => `${a.data.reason}: ${a.data.message}`))).toEqual(new Set(['offline: no printer answered']));
    await setPrinter({ kind: 'tcp', host: printer.host, port: printer.port });
  });

  it('a real printer\'s own state still comes through: paper_out from its status reply', async () => {
    await setPrinter({ kind: 'tcp', host: printer.host, port: printer.port });
    printer.setState({ paperOut: true });
    expect((await api('POST', `/devices/${f.deviceIds.kiosk}/printer/test`, f.tokens.manager, {})).json()).toEqual({ status: 'failed', reason: 'paper_out' });
    printer.setState({ paperOut: false, coverOpen: true });
    expect((await api('POST', `/devices/${f.deviceIds.kiosk}/printer/test`, f.tokens.manager, {})).json()).toEqual({ status: 'failed', reason: 'error' });
    printer.setState({ coverOpen: false, silent: true });
    // a printer that never answers status requests still prints
    expect((await api('POST', `/devices/${f.deviceIds.kiosk}/printer/test`, f.tokens.manager, {})).json()).toEqual({ status: 'sent' });
  });
});

describe('TicketPrinter', () => {
  it('answers "failed: timeout" when a printer takes too long, without failing the issue', async () => {
    await setPrinter({ kind: 'tcp', host: 'slow.printer', port: 9100 });
    let release!: () => void;
    const stuck: PrinterTransport = {
      status: async () => ({ online: true, paperOut: false }),
      write: () => new Promise<void>((resolve) => (release = resolve)),
      close: async () => {},
    };
    const service = new TicketPrinter({ db: f.t.db, waitMs: 100, transport: () => stuck });
    const ticket = (await issue(f.tokens.staff)).json().ticket;
    const started = Date.now();
    expect(await service.printIssued({ ticket, deviceId: f.deviceIds.kiosk!, url: 'http://x/t/y' })).toEqual({ status: 'failed', reason: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2000);
    release();
  });

  it('builds the phone URL from QMS_PUBLIC_URL, else from the address the kiosk used', () => {
    const config = { publicUrl: undefined, host: '0.0.0.0', port: 8080 };
    expect(publicBaseUrl({ ...config, publicUrl: 'https://hcc.example.gov.vn/' })).toBe('https://hcc.example.gov.vn');
    const request = (host: string) => ({ host, protocol: 'http' }) as never;
    expect(publicBaseUrl(config, request('192.168.1.10:8080'))).toBe('http://192.168.1.10:8080');
    expect(publicBaseUrl(config, request('[fe80::1]:8080'))).toBe('http://[fe80::1]:8080');
    expect(publicBaseUrl(config, request('evil.com/"><script>'))).toBe('http://localhost:8080');
    expect(phoneUrl('https://a.vn', 'abc_DEF-123')).toBe('https://a.vn/t/abc_DEF-123');
  });
});

describe("a kiosk printed by its site agent ({kind:'agent'})", () => {
  it('is accepted by PUT and described in the OpenAPI document', async () => {
    const set = await setPrinter({ kind: 'agent' });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toEqual({ deviceId: f.deviceIds.kiosk, printer: { kind: 'agent' } });
    const doc = (await f.app.inject({ method: 'GET', url: '/api/docs/json' })).json();
    const body = JSON.stringify(doc.paths['/api/v1/devices/{deviceId}/printer'].put.requestBody);
    expect(body).toContain('"agent"');
    expect(Object.keys(doc.paths)).toContain('/api/v1/devices/me/printer/status');
  });

  it('with no agent connected, the ticket is issued and the reply says failed/offline at once', async () => {
    await setPrinter({ kind: 'agent' });
    const started = Date.now();
    const res = await issue();
    expect(res.statusCode).toBe(201);
    expect(res.json().print).toEqual({ status: 'failed', reason: 'offline' });
    expect(Date.now() - started).toBeLessThan(1000);
    const alert = await f.t.db.selectFrom('alert').select('data').where('kind', '=', 'printer').where('ticketId', '=', res.json().ticket.id).executeTakeFirstOrThrow();
    expect(alert.data).toMatchObject({ reason: 'offline', printer: 'site agent' });
    await setPrinter(null);
  });

  it('POST /devices/me/printer/status: kiosks only, checked body, and claim never replaces a network printer', async () => {
    const report = (token: string | undefined, body: unknown) => api('POST', '/devices/me/printer/status', token, body);
    expect((await report(f.tokens.staff, { state: 'ready' })).statusCode).toBe(403);
    expect((await report(f.tokens.manager, { state: 'ready' })).statusCode).toBe(403);
    expect((await report(undefined, { state: 'ready' })).statusCode).toBe(401);
    const display = await report(f.tokens.display, { state: 'paper_out' });
    expect(display.statusCode).toBe(400);
    expect(display.json().error.code).toBe('NOT_A_KIOSK');
    const alerts = await f.t.db.selectFrom('alert').select('id').execute();
    for (const body of [{}, { state: 'empty' }, { state: 'ready', extra: 1 }, { state: 'ready', claim: 'yes' }, { state: 'ready', message: 'x'.repeat(501) }]) {
      expect((await report(f.tokens.kiosk, body)).statusCode, JSON.stringify(body)).toBe(400);
    }
    expect(await f.t.db.selectFrom('alert').select('id').execute()).toEqual(alerts);

    await setPrinter({ kind: 'tcp', host: printer.host, port: printer.port });
    const kept = await report(f.tokens.kiosk, { state: 'ready', claim: true, printer: 'usb /dev/usb/lp0' });
    expect(kept.json()).toEqual({ deviceId: f.deviceIds.kiosk, printer: { kind: 'tcp', host: printer.host, port: printer.port }, driving: false });
    await setPrinter(null);
    const claimed = await report(f.tokens.kiosk, { state: 'ready', claim: true });
    expect(claimed.json()).toEqual({ deviceId: f.deviceIds.kiosk, printer: { kind: 'agent' }, driving: true });
    await setPrinter(null);
  });

  it('a status report raises one alert however often it repeats, and "ready" marks it cleared', async () => {
    const report = (body: unknown) => api('POST', '/devices/me/printer/status', f.tokens.kiosk, body);
    await f.t.db.deleteFrom('alert').where('kind', '=', 'printer').execute();
    for (let i = 0; i < 3; i++) expect((await report({ state: 'paper_out', printer: 'usb /dev/usb/lp0' })).statusCode).toBe(200);
    let rows = await f.t.db.selectFrom('alert').select(['data', 'ticketId']).where('kind', '=', 'printer').execute();
    expect(rows).toEqual([{ ticketId: null, data: expect.objectContaining({ reason: 'paper_out', count: 0, printer: 'usb /dev/usb/lp0' }) }]);
    await report({ state: 'ready' });
    rows = await f.t.db.selectFrom('alert').select(['data', 'ticketId']).where('kind', '=', 'printer').execute();
    expect(rows[0]!.data.clearedAt).toEqual(expect.any(String));
    // out of paper again later: a new alert, not the cleared one
    await report({ state: 'paper_out' });
    expect(await f.t.db.selectFrom('alert').select('id').where('kind', '=', 'printer').execute()).toHaveLength(2);
    await f.t.db.deleteFrom('alert').where('kind', '=', 'printer').execute();
  });
});
