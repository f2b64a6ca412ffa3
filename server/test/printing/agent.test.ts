import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEscPos, type MonoBitmap } from '@qms/hardware';
import { createLogger, parseAgentConfig, registerPeripheral, SiteAgent, type AgentDeviceConfig } from '@qms/hardware/agent';
import { createLedPeripheral } from '@qms/hardware/led';
import { startTestPrinter, type TestPrinter } from '@qms/hardware/testing';
import { MockBinding } from '@qms/hardware/testing/mock-serial';
import { cropRows, inkBands, normalise, ocr } from '@qms/hardware/testing/ocr';
import type { AlertRaised } from '@qms/protocol';
import jsQR from 'jsqr';
import { bitmapToRgba } from '@qms/hardware';
import { apiFixture, bearer, type ApiFixture, listenLocally } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';

// The site agent against the real server on 127.0.0.1: paired with a real pairing code, it
// prints the tickets its kiosk issues on a "USB printer" (a file standing for /dev/usb/lp0),
// reports an empty roll so managers hear of it at once, and drives counter LED boards on a
// mocked serial port (@serialport/binding-mock) whose pretend boards answer like Modbus slaves.

let f: ApiFixture;
let base: string;
let dir: string;
let tcpPrinter: TestPrinter;
const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Hà Nội: open
const agents: SiteAgent[] = [];
const sockets: Socket[] = [];
const logLines: string[] = [];

beforeAll(async () => {
  [f, tcpPrinter] = await Promise.all([apiFixture({ clock: clock.now, allowLoopbackPrinters: true }), startTestPrinter()]);
  base = await listenLocally(f.app);
  dir = await mkdtemp(path.join(tmpdir(), 'qms-agent-'));
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await Promise.all(agents.map((a) => a.stop()));
  await f?.app.close();
  await f?.t.drop();
  await tcpPrinter?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function http(method: string, url: string, token?: string, body?: unknown) {
  const res = await fetch(`${base}/api/v1${url}`, {
    method,
    headers: { ...(token ? bearer(token) : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const pairingCode = async (deviceId: string) => (await http('POST', `/devices/${deviceId}/pairing-code`, f.tokens.manager)).body.pairingCode as string;

function startAgent(devices: AgentDeviceConfig[], stateFile = path.join(dir, 'state.json')): SiteAgent {
  const config = parseAgentConfig({ server: base, stateFile, devices });
  const agent = new SiteAgent({ config, log: createLogger({ level: 'debug', write: (line) => logLines.push(line) }), backoff: { initialMs: 100, maxMs: 1000 } });
  agents.push(agent);
  return agent;
}

async function until<T>(what: string, check: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const readQr = (image: MonoBitmap) => jsQR(bitmapToRgba(image), image.width, image.height)?.data ?? null;

function managerSocket(): Socket {
  const socket = connect(base, { auth: { token: f.tokens.manager, siteId: f.siteId }, transports: ['websocket'], reconnection: false, forceNew: true });
  sockets.push(socket);
  return socket;
}

function nextAlert(socket: Socket, match: (a: AlertRaised) => boolean, timeoutMs = 3000): Promise<{ alert: AlertRaised; at: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching alert:raised within ${timeoutMs} ms`)), timeoutMs);
    const on = (payload: AlertRaised) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      socket.off('alert:raised', on);
      resolve({ alert: payload, at: Date.now() });
    };
    socket.on('alert:raised', on);
  });
}

describe('site agent with a USB printer (device file)', () => {
  let agent: SiteAgent;
  let lp0: string;
  let token: string;

  it('pairs with a one-time code, keeps the token 0600, and claims the kiosk printer', async () => {
    lp0 = path.join(dir, 'lp0');
    await writeFile(lp0, '');
    const code = await pairingCode(f.deviceIds.kiosk!);
    agent = startAgent([{ name: 'kiosk-1', pairingCode: code, printer: { kind: 'device-file', path: lp0 } }]);
    await agent.start();
    await until('the agent to connect', () => agent.link('kiosk-1')!.connected);

    const stateFile = path.join(dir, 'state.json');
    expect((await stat(stateFile)).mode & 0o777).toBe(0o600);
    const state = JSON.parse(await readFile(stateFile, 'utf8'));
    token = state.devices['kiosk-1'].token;
    expect(state.devices['kiosk-1']).toMatchObject({ deviceId: f.deviceIds.kiosk, server: base });
    expect(token).toMatch(/^qd_/);
    // the code is spent: a second use is refused
    expect((await http('POST', '/devices/pair', undefined, { code })).status).toBe(401);

    const stored = await until('the claim', async () => {
      const printer = (await http('GET', `/devices/${f.deviceIds.kiosk}/printer`, f.tokens.manager)).body.printer;
      return printer?.kind === 'agent' ? printer : null;
    });
    expect(stored).toEqual({ kind: 'agent' });
  });

  it('prints the ticket the kiosk issues: the bytes decode to an image whose QR is the phone page and whose text reads back', async () => {
    const res = await http('POST', `/sites/${f.siteId}/tickets`, token, { serviceId: f.services.HT });
    expect(res.status).toBe(201);
    expect(res.body.print).toEqual({ status: 'sent' });
    const { code } = res.body.ticket;

    const job = decodeEscPos(await readFile(lp0));
    expect(job.cut).toBe(true);
    const image = job.image!;
    expect(image.width).toBe(576);
    expect(readQr(image)).toBe(res.body.phoneUrl);
    expect(res.body.phoneUrl).toBe(`${base}/t/${res.body.ticket.publicId}`);

    const text = normalise(await ocr(image));
    expect(text).toContain('Số thứ tự');
    const bands = inkBands(image);
    const qr = bands.reduce((a, b) => (b.height > a.height ? b : a));
    const big = bands.filter((b) => b.bottom < qr.top).reduce((a, b) => (b.height > a.height ? b : a));
    const shrink = Math.max(1, Math.round(big.height / 42));
    const read = normalise(await ocr(cropRows(image, big.top, big.bottom), { psm: 7, lang: 'eng', shrink }));
    // the letter, then digits: tesseract's eng model reads a lone bold 0 as O now and then
    expect(read[0] + read.slice(1).replace(/O/g, '0')).toBe(code);
  });

  it('reconnects after the server drops its sockets, and prints again', async () => {
    const link = agent.link('kiosk-1')!;
    f.app.realtime.io.in(`agent:${f.deviceIds.kiosk}`).disconnectSockets(true);
    await until('the disconnect', () => !link.connected);
    await until('the reconnect', () => link.connected, 8000);
    const before = (await readFile(lp0)).length;
    const res = await http('POST', `/sites/${f.siteId}/tickets`, token, { serviceId: f.services.HT });
    expect(res.body.print).toEqual({ status: 'sent' });
    expect((await readFile(lp0)).length).toBeGreaterThan(before);
  });

  it('with the agent stopped, the issue says failed/offline at once, and staff get an alert', async () => {
    await agent.stop();
    const manager = managerSocket();
    await new Promise((resolve) => manager.once('queue:snapshot', resolve));
    const alert = nextAlert(manager, (a) => a.alert.kind === 'printer' && a.alert.reason === 'offline');
    const started = Date.now();
    const res = await http('POST', `/sites/${f.siteId}/tickets`, token, { serviceId: f.services.HT });
    const took = Date.now() - started;
    expect(res.status).toBe(201);
    expect(res.body.print).toEqual({ status: 'failed', reason: 'offline' });
    expect(took).toBeLessThan(1500);
    expect((await alert).alert.alert.device).toMatchObject({ id: f.deviceIds.kiosk });
  });

  it('restarted, it reuses the saved token without a pairing code', async () => {
    const again = startAgent([{ name: 'kiosk-1', printer: { kind: 'device-file', path: lp0 } }]);
    await again.start();
    await until('the agent to connect', () => again.link('kiosk-1')!.connected);
    const res = await http('POST', `/sites/${f.siteId}/tickets`, token, { serviceId: f.services.HT });
    expect(res.body.print).toEqual({ status: 'sent' });
    await again.stop();
  });
});

describe('site agent beside a paired kiosk screen (two devices, one PC)', () => {
  it("prints the screen's tickets when the screen's printer names the agent's device", async () => {
    // a device has one token: the screen keeps its own, the agent pairs as a second device
    const screen = await http('POST', `/sites/${f.siteId}/devices`, f.tokens.manager, { kind: 'kiosk', name: 'Kiosk sảnh – màn hình' });
    const agentDevice = await http('POST', `/sites/${f.siteId}/devices`, f.tokens.manager, { kind: 'kiosk', name: 'Kiosk sảnh – máy in' });
    const lp = path.join(dir, 'lp1');
    await writeFile(lp, '');
    const agent = startAgent([{ name: 'printer-of-screen', pairingCode: agentDevice.body.pairingCode, printer: { kind: 'device-file', path: lp, widthDots: 384 } }],
      path.join(dir, 'state-3.json'));
    await agent.start();
    await until('the agent to connect', () => agent.link('printer-of-screen')!.connected);

    const put = await http('PUT', `/devices/${screen.body.device.id}/printer`, f.tokens.manager, { kind: 'agent', deviceId: agentDevice.body.device.id });
    expect(put).toEqual({ status: 200, body: { deviceId: screen.body.device.id, printer: { kind: 'agent', deviceId: agentDevice.body.device.id } } });
    const res = await http('POST', `/sites/${f.siteId}/tickets`, screen.body.token, { serviceId: f.services.HT });
    expect(res.body.print).toEqual({ status: 'sent' });
    const job = decodeEscPos(await readFile(lp));
    expect(job.image!.width).toBe(384);
    expect(readQr(job.image!)).toBe(res.body.phoneUrl);

    // the agent's device is not for another site, nor a made-up one
    const otherSite = await f.t.db.selectFrom('device').select('id').where('siteId', '=', f.otherSiteId).executeTakeFirstOrThrow();
    for (const deviceId of [otherSite.id, '00000000-0000-4000-8000-000000000000']) {
      const bad = await http('PUT', `/devices/${screen.body.device.id}/printer`, f.tokens.manager, { kind: 'agent', deviceId });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('AGENT_DEVICE_NOT_FOUND');
    }
    expect((await http('GET', `/devices/${screen.body.device.id}/printer`, f.tokens.manager)).body.printer).toEqual({ kind: 'agent', deviceId: agentDevice.body.device.id });
    await agent.stop();
  });
});

describe('printer alerts reach managers at once', () => {
  it("an agent whose printer is out of paper: the manager's socket has the alert before any ticket fails", async () => {
    const created = await http('POST', `/sites/${f.siteId}/devices`, f.tokens.manager, { kind: 'kiosk', name: 'Kiosk tầng 2' });
    expect(created.status).toBe(201);
    const deviceId = created.body.device.id as string;
    const code = await pairingCode(deviceId);
    tcpPrinter.setState({ online: true, paperOut: true, paperLow: true, coverOpen: false, silent: false });
    const manager = managerSocket();
    await new Promise((resolve) => manager.once('queue:snapshot', resolve));
    const alert = nextAlert(manager, (a) => a.alert.kind === 'printer' && a.alert.deviceId === deviceId);

    const started = Date.now();
    const agent = startAgent([{ name: 'kiosk-2', pairingCode: code, printer: { kind: 'tcp', host: tcpPrinter.host, port: tcpPrinter.port, widthDots: 384 } }],
      path.join(dir, 'state-2.json'));
    await agent.start();
    const { alert: raised, at } = await alert;
    expect(raised.alert).toMatchObject({ kind: 'printer', reason: 'paper_out', acknowledgedAt: null, device: { id: deviceId, name: 'Kiosk tầng 2' } });
    expect(at - started).toBeLessThan(5000);

    // a ticket now fails for the same reason, and stays one alert
    const token = JSON.parse(await readFile(path.join(dir, 'state-2.json'), 'utf8')).devices['kiosk-2'].token;
    const res = await http('POST', `/sites/${f.siteId}/tickets`, token, { serviceId: f.services.HT });
    expect(res.body.print).toEqual({ status: 'failed', reason: 'paper_out' });
    const rows = await f.t.db.selectFrom('alert').select('data').where('kind', '=', 'printer').where('deviceId', '=', deviceId).execute();
    expect(rows).toEqual([{ data: expect.objectContaining({ reason: 'paper_out', count: 1, printer: `tcp ${tcpPrinter.host}:${tcpPrinter.port}` }) }]);

    // paper back: the alert is marked cleared, and tickets print at the agent's own width
    tcpPrinter.setState({ paperOut: false, paperLow: false });
    tcpPrinter.clear();
    const ok = await http('POST', `/sites/${f.siteId}/tickets`, token, { serviceId: f.services.HT });
    expect(ok.body.print).toEqual({ status: 'sent' });
    const jobs = tcpPrinter.connections().map((bytes) => decodeEscPos(bytes)).filter((j) => j.image);
    expect(jobs.at(-1)!.image!.width).toBe(384);
    expect(readQr(jobs.at(-1)!.image!)).toBe(ok.body.phoneUrl);
    await agent.stop();
  });

  it('a network printer out of paper: alert:raised at once, not at the next monitor sweep', async () => {
    const created = await http('POST', `/sites/${f.siteId}/devices`, f.tokens.manager, { kind: 'kiosk', name: 'Kiosk mạng' });
    const token = created.body.token as string;
    const deviceId = created.body.device.id as string;
    expect((await http('PUT', `/devices/${deviceId}/printer`, f.tokens.manager, { kind: 'tcp', host: tcpPrinter.host, port: tcpPrinter.port })).status).toBe(200);
    tcpPrinter.setState({ paperOut: true });
    const manager = managerSocket();
    await new Promise((resolve) => manager.once('queue:snapshot', resolve));
    const alert = nextAlert(manager, (a) => a.alert.deviceId === deviceId, 2000);
    const res = await http('POST', `/sites/${f.siteId}/tickets`, token, { serviceId: f.services.HT });
    expect(res.body.print).toEqual({ status: 'failed', reason: 'paper_out' });
    const { alert: raised } = await alert;
    expect(raised.alert).toMatchObject({ kind: 'printer', reason: 'paper_out', ticket: { code: res.body.ticket.code } });
    // published once: the monitor's sweep does not send it again
    const row = await f.t.db.selectFrom('alert').select('data').where('deviceId', '=', deviceId).executeTakeFirstOrThrow();
    expect(row.data.published).toBe(true);
    tcpPrinter.setState({ paperOut: false });
  });
});

// ---- LED boards on a mocked RS-485 line -------------------------------------------------

/** CRC-16/MODBUS, table-driven: written apart from the agent's bitwise one on purpose. */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
  return c;
});
function crc(bytes: Uint8Array): number {
  let c = 0xffff;
  for (const b of bytes) c = (c >>> 8) ^ CRC_TABLE[(c ^ b) & 0xff]!;
  return c;
}

interface Frame { slave: number; start: number; values: number[]; text: string }

/** Pretend Modbus slaves behind a mock port: every 0x10 request is checked and answered. */
function mockBoards(frames: Frame[]) {
  return {
    ...MockBinding,
    async open(options: Parameters<typeof MockBinding.open>[0]) {
      const port = await MockBinding.open(options);
      const write = port.write.bind(port);
      port.write = async (buffer: Buffer) => {
        await write(buffer);
        const body = buffer.subarray(0, buffer.length - 2);
        const sent = buffer[buffer.length - 2]! | (buffer[buffer.length - 1]! << 8);
        expect(sent, 'CRC of the frame').toBe(crc(body));
        expect(body[1]).toBe(0x10);
        const quantity = (body[4]! << 8) | body[5]!;
        expect(body[6]).toBe(quantity * 2);
        const values = Array.from({ length: quantity }, (_, i) => (body[7 + 2 * i]! << 8) | body[8 + 2 * i]!);
        frames.push({ slave: body[0]!, start: (body[2]! << 8) | body[3]!, values, text: String.fromCharCode(...values.flatMap((v) => [v >> 8, v & 0xff])) });
        const reply = Buffer.alloc(8);
        buffer.copy(reply, 0, 0, 6);
        const c = crc(reply.subarray(0, 6));
        reply[6] = c & 0xff;
        reply[7] = c >>> 8;
        setTimeout(() => port.emitData(reply), 5);
      };
      return port;
    },
  };
}

describe('counter LED boards driven by the agent', () => {
  it('shows the code a counter calls on its board, clears it when finished, and rewrites all from the snapshot', async () => {
    const frames: Frame[] = [];
    MockBinding.createPort('/dev/ttyLED0', { echo: false, record: true });
    registerPeripheral('led-modbus-test', (config, api) => createLedPeripheral({ ...config, type: 'led-modbus' }, api, { binding: mockBoards(frames) as never }));
    const display = await http('POST', `/sites/${f.siteId}/devices`, f.tokens.manager, { kind: 'display', name: 'LED boards' });
    const agent = startAgent([{
      name: 'leds', pairingCode: display.body.pairingCode,
      peripherals: [{ type: 'led-modbus-test', path: '/dev/ttyLED0', baudRate: 19200, boards: [{ counter: 1, address: 11 }, { counter: 2, address: 12 }] }],
    }], path.join(dir, 'state-leds.json'));
    await agent.start();
    // the first snapshot blanks both boards
    await until('both boards blanked', () => [11, 12].every((a) => frames.some((fr) => fr.slave === a && fr.text === '        ')));

    const issued = await http('POST', `/sites/${f.siteId}/tickets`, f.tokens.staff, { serviceId: f.services.HT });
    expect(issued.status).toBe(201);
    expect((await http('POST', `/counters/${f.counters[1]}/open`, f.tokens.staff)).status).toBe(200);
    frames.length = 0;
    const called = await http('POST', `/counters/${f.counters[1]}/call-next`, f.tokens.staff);
    expect(called.status).toBe(200);
    const code = called.body.ticket.code as string;
    const shown = await until('the board of counter 1', () => frames.find((fr) => fr.slave === 11));
    expect(shown).toEqual({ slave: 11, start: 0, values: expect.any(Array), text: code.padEnd(8, ' ') });
    expect(shown.values).toHaveLength(4);
    expect(frames.some((fr) => fr.slave === 12)).toBe(false); // the other counter's board is left alone

    frames.length = 0;
    expect((await http('POST', `/tickets/${called.body.ticket.id}/finish`, f.tokens.staff)).status).toBe(200);
    expect(await until('the board cleared', () => frames.find((fr) => fr.slave === 11))).toMatchObject({ text: '        ' });

    // after a reconnect the snapshot rewrites every board
    const next = await http('POST', `/sites/${f.siteId}/tickets`, f.tokens.staff, { serviceId: f.services.HT });
    expect(next.status).toBe(201);
    const second = await http('POST', `/counters/${f.counters[1]}/call-next`, f.tokens.staff);
    await until('the second call shown', () => frames.find((fr) => fr.slave === 11 && fr.text.startsWith(second.body.ticket.code)));
    frames.length = 0;
    f.app.realtime.io.in(`agent:${display.body.device.id}`).disconnectSockets(true);
    await until('both boards rewritten after the reconnect', () => frames.some((fr) => fr.slave === 12) && frames.find((fr) => fr.slave === 11), 8000);
    expect(frames.find((fr) => fr.slave === 11)!.text).toBe(second.body.ticket.code.padEnd(8, ' '));
    expect(frames.find((fr) => fr.slave === 12)!.text).toBe('        ');
    await agent.stop();
    MockBinding.reset();
  });
});
