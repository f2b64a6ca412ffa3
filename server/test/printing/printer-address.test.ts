import { networkInterfaces } from 'node:os';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestPrinter, type TestPrinter } from '@qms/hardware/testing';
import { PrinterAddresses } from '../../src/printing/printer-address.ts';
import { TicketPrinter } from '../../src/printing/ticket-printer.service.ts';
import { apiFixture, bearer, listenLocally, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';

// A kiosk's network printer is another machine on the centre's network: the server never
// connects to itself (loopback, its own addresses, its HTTP and database ports), nor to
// link-local, multicast or broadcast addresses, whether the address was typed or a name
// resolves to it at print time. This app runs with the production rules (no test override).
// No test here looks a name up in DNS: names resolve from /etc/hosts (localhost) or through a
// resolver given to the test.

let f: ApiFixture;
let printer: TestPrinter;
let httpPort: number;
let databasePort: number;
const clock = new TestClock('2026-11-24T02:00:00Z');

beforeAll(async () => {
  [f, printer] = await Promise.all([apiFixture({ clock: clock.now }), startTestPrinter()]);
  httpPort = Number(new URL(await listenLocally(f.app)).port);
  databasePort = (await sql<{ port: number }>`SELECT inet_server_port() AS port`.execute(f.t.db)).rows[0]!.port;
});
afterAll(async () => {
  await f?.app.close();
  await f?.t.drop();
  await printer?.close();
});
beforeEach(() => printer.clear());

const api = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => f.app.inject({
  method, url: `/api/v1${url}`,
  headers: { ...bearer(f.tokens.manager), ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
  ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}),
});
const kiosk = () => f.deviceIds.kiosk!;
const storedPrinter = async () => (await f.t.db.selectFrom('device').select('settings').where('id', '=', kiosk()).executeTakeFirstOrThrow()).settings.printer;

describe('PUT /devices/:deviceId/printer refuses addresses that are not a printer on the LAN', () => {
  it('answers 400 PRINTER_ADDRESS_REFUSED, with the reason, and keeps the printer it had', async () => {
    const good = { kind: 'tcp', host: '192.168.1.50', port: 9100 };
    expect((await api('PUT', `/devices/${kiosk()}/printer`, good)).statusCode).toBe(200);
    const ownAddress = Object.values(networkInterfaces()).flat().find((a) => a && !a.internal && a.family === 'IPv4')?.address;
    const refused: [string, number, RegExp][] = [
      ['127.0.0.1', 5432, /loopback/],
      ['127.0.0.1', 9100, /loopback/],
      ['127.8.9.10', 9100, /loopback/],
      ['::1', 9100, /loopback/],
      ['[::1]', 9100, /loopback/],
      ['::ffff:127.0.0.1', 9100, /loopback/],
      ['localhost', 9100, /loopback/],
      ['printer.localhost', 9100, /loopback/],
      // numeric forms the resolver reads as 127.0.0.1
      ['2130706433', 9100, /not written as an address/],
      ['127.1', 9100, /not written as an address/],
      ['0x7f.1', 9100, /not written as an address/],
      ['0.0.0.0', 9100, /not the address of a machine/],
      ['::', 9100, /not the address of a machine/],
      ['169.254.169.254', 80, /link-local/],
      ['fe80::1', 9100, /link-local/],
      ['224.0.0.251', 9100, /multicast/],
      ['ff02::1', 9100, /multicast/],
      ['255.255.255.255', 9100, /broadcast/],
      // this server's own HTTP port and its PostgreSQL's, on any host
      ['192.168.1.77', httpPort, /this server's own/],
      ['192.168.1.77', databasePort, /this server's own/],
      ...(ownAddress ? [[ownAddress, 9100, /an address of this server/] as [string, number, RegExp]] : []),
    ];
    for (const [host, port, why] of refused) {
      const res = await api('PUT', `/devices/${kiosk()}/printer`, { kind: 'tcp', host, port });
      expect(res.statusCode, `${host}:${port}`).toBe(400);
      expect(res.json().error.code, `${host}:${port}`).toBe('PRINTER_ADDRESS_REFUSED');
      expect(res.json().error.message, `${host}:${port}`).toMatch(why);
      expect(await storedPrinter(), `${host}:${port}`).toEqual(good);
    }
    // printers on the centre's network, by address or by a name, are still fine
    for (const host of ['192.168.1.51', '10.0.0.7', 'fd00::51', 'printer.local']) {
      expect((await api('PUT', `/devices/${kiosk()}/printer`, { kind: 'tcp', host, port: 9100 })).statusCode, host).toBe(200);
    }
  });
});

describe('a host name is checked again, for the address it resolves to, at every print', () => {
  it('a stored name that now resolves to loopback prints nothing there and answers "offline"', async () => {
    // as a printer saved before this check, or a name whose DNS answer changed since
    await f.t.db.updateTable('device').set({ settings: JSON.stringify({ printer: { kind: 'tcp', host: 'localhost', port: printer.port } }) })
      .where('id', '=', kiosk()).execute();
    const res = await api('POST', `/devices/${kiosk()}/printer/test`, {});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'failed', reason: 'offline' });
    expect(printer.connections()).toEqual([]);
  });

  it('DNS rebinding: a name that resolved to a LAN printer when saved and to 127.0.0.1 when printing is refused', async () => {
    let answer = '192.168.1.60';
    const addresses = new PrinterAddresses({ lookup: async () => [answer] });
    expect(await addresses.refusal('printer.example', printer.port)).toBeNull();
    await f.t.db.updateTable('device').set({ settings: JSON.stringify({ printer: { kind: 'tcp', host: 'printer.example', port: printer.port } }) })
      .where('id', '=', kiosk()).execute();
    answer = '127.0.0.1';
    const service = new TicketPrinter({ db: f.t.db, addresses, failureFloorMs: 0 });
    expect(await service.printSample(kiosk(), 'http://x/t/test-print')).toEqual({ status: 'failed', reason: 'offline' });
    expect(printer.connections()).toEqual([]);
    // every answer counts: a printer's address mixed with loopback is refused too
    const mixed = new PrinterAddresses({ lookup: async () => ['192.168.1.60', '127.0.0.1'] });
    const looked = await new Promise<unknown>((resolve) => mixed.lookup('printer.example', { all: true }, (error, found) => resolve(error?.message ?? found)));
    expect(looked).toMatch(/printer\.example \(127\.0\.0\.1\) is this server itself/);
  });
});
