import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoIfEmpty } from '@qms/db';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { SiteAgent } from '../src/agent/agent.ts';
import { createLogger } from '../src/agent/log.ts';
import type { AgentConfig } from '../src/agent/config.ts';
import '../src/pads/register.ts';
import { createHidPad, type PadPeripheral } from '../src/pads/pad.peripheral.ts';
import { PadDispatcher, type PadOutcome } from '../src/pads/pad.dispatch.ts';
import type { HidTarget } from '../src/pads/pad.config.ts';
import { FakeHidDevice } from '../src/pads/testing.ts';
import { encodeInputEvents, KEY_CODES, keyStroke, KEY_PRESS, KEY_RELEASE, KEY_REPEAT } from '../src/pads/input-event.ts';

// The pads against the real server: `server/src/main.ts` in a child process on 127.0.0.1 with
// a cloned test database, the real site agent pairing a counter and a rating device with
// pairing codes (HTTP + socket.io with their tokens). The counter's HID pad is a fake node-hid
// device sending the reports of a button box; the rating pad is a keyboard pad built by the
// agent from its config, reading input_event records from a FIFO.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ADMIN_PASSWORD = 'admin-pads-password';
const STAFF_PASSWORD = 'staff-pads-password';

const until = async (check: () => boolean | Promise<boolean>, what: string, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startServer(databaseUrl: string): Promise<{ baseUrl: string; child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env, DATABASE_URL: databaseUrl, HOST: '127.0.0.1', PORT: '0', QMS_DEMO: '0', QMS_CLUSTER: '0',
      QMS_ADMIN_PASSWORD: ADMIN_PASSWORD, LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  let baseUrl = '';
  await until(() => {
    if (child.exitCode !== null) throw new Error(`server exited: ${output}`);
    const m = /running at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
    if (m) baseUrl = m[1]!;
    return !!baseUrl;
  }, 'the server to listen', 60_000);
  return { baseUrl, child, output: () => output };
}

describe('pads against the real server and site agent', () => {
  let t: TestDatabase;
  let server: Awaited<ReturnType<typeof startServer>>;
  let agent: SiteAgent;
  let dir: string;
  let fifo: string;
  let keyboard: FileHandle | undefined;
  let hidPad: PadPeripheral | undefined;
  const hidDevices: FakeHidDevice[] = [];
  const hidTargets: HidTarget[] = [];
  const counterOutcomes: PadOutcome[] = [];
  const agentLog: Record<string, any>[] = [];
  let siteId = '';
  let counterId = '';
  let serviceId = '';
  let staffId = '';
  let kioskToken = '';

  const api = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.baseUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    await seedDemoIfEmpty(t.db);
    await t.db.deleteFrom('openingHours').execute(); // open whenever the test runs
    server = await startServer(t.url);

    const admin = (await api('', 'POST', '/auth/login', { username: 'admin', password: ADMIN_PASSWORD })).body.token as string;
    siteId = ((await api(admin, 'GET', '/sites')).body as { id: string; code: string }[]).find((s) => s.code === 'PHUONG-DONG-CAM')!.id;
    const counter = ((await api(admin, 'GET', `/sites/${siteId}/counters`)).body as { id: string; number: number; serviceIds: string[] }[])
      .find((c) => c.number === 1)!;
    counterId = counter.id;
    serviceId = counter.serviceIds[0]!;
    const staff = await api(admin, 'POST', `/sites/${siteId}/staff`, { username: 'canbo_pad', password: STAFF_PASSWORD, displayName: 'Nguyễn Thị Phím', role: 'staff' });
    expect(staff.status).toBe(201);
    staffId = staff.body.id;
    const device = async (kind: string, name: string, withCounter: boolean) => {
      const res = await api(admin, 'POST', `/sites/${siteId}/devices`, { kind, name, ...(withCounter ? { counterId } : {}) });
      expect(res.status).toBe(201);
      return res.body as { token: string; pairingCode: string };
    };
    kioskToken = (await device('kiosk', 'Kiosk sảnh', false)).token;
    const counterDevice = await device('counter', 'Bàn phím quầy 1', true);
    const ratingDevice = await device('rating', 'Phím đánh giá quầy 1', true);

    dir = mkdtempSync(join(tmpdir(), 'qms-pads-e2e-'));
    fifo = join(dir, 'usb-Rating_Pad-event-kbd');
    execFileSync('mkfifo', [fifo]);
    // as it would stand in /etc/qms/site-agent.json; the agent builds it through the registry
    const ratingPad = {
      type: 'keyboard-pad', name: 'rating pad', path: fifo, lowRatingReason: 'other', debounceMs: 200,
      keys: { KEY_KP1: 'score:3', KEY_KP2: 'score:2', KEY_KP3: 'score:1', KEY_KPENTER: 'criticism' },
    };
    const config: AgentConfig = {
      server: server.baseUrl,
      stateFile: join(dir, 'state.json'),
      devices: [
        { name: 'counter-1', pairingCode: counterDevice.pairingCode },
        {
          name: 'rating-1',
          pairingCode: ratingDevice.pairingCode,
          peripherals: [ratingPad],
        },
      ],
    };
    agent = new SiteAgent({
      config,
      log: createLogger({ level: 'info', write: (line) => agentLog.push(JSON.parse(line)) }),
      backoff: { initialMs: 100, maxMs: 1000 },
    });
    await agent.start();
    await agent.whenConnected();
    keyboard = await open(fifo, 'w'); // the rating pad is plugged in

    // the counter's HID button box: bits 0-6 of byte 0 of an 8-byte report
    hidPad = createHidPad({
      type: 'hid-pad', name: 'counter pad', vendorId: '1209', productId: 'a0c1', debounceMs: 200,
      buttons: [
        { byte: 0, mask: 0x01, action: 'call-next' },
        { byte: 0, mask: 0x02, action: 'recall' },
        { byte: 0, mask: 0x04, action: 'finish' },
        { byte: 0, mask: 0x08, action: 'no-show' },
        { byte: 0, mask: 0x10, action: 'start' },
        { byte: 0, mask: 0x20, action: 'pause' },
        { byte: 0, mask: 0x40, action: 'resume' },
      ],
      pauseReason: 'Nghỉ giữa giờ',
    }, agent.link('counter-1')!.api, {
      openHid: async (target) => {
        hidTargets.push(target);
        const d = new FakeHidDevice();
        hidDevices.push(d);
        return d;
      },
      onOutcome: (o) => counterOutcomes.push(o),
    });
    await hidPad.start();
  }, 120_000);

  afterAll(async () => {
    await hidPad?.stop();
    await agent?.stop();
    await keyboard?.close(); // ends the read still waiting on the FIFO
    if (server?.child.exitCode === null) {
      const exited = new Promise((r) => server.child.once('exit', r));
      server.child.kill('SIGTERM');
      await exited;
    }
    await t?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const press = (bits: number) => hidDevices.at(-1)!.report([bits, 0, 0, 0, 0, 0, 0, 0]);
  const outcomesOf = (action: string) => counterOutcomes.filter((o) => o.action === action);
  const ticketRow = (id: string) => t.db.selectFrom('ticket').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const typeKey = async (name: string, ...values: number[]) => {
    await keyboard!.write(encodeInputEvents(values.flatMap((v) => keyStroke(KEY_CODES[name]!, v))));
  };
  const padLines = (pattern: RegExp) => agentLog.filter((l) => l.pad === 'rating pad' && pattern.test(String(l.msg)));

  it('calls, recalls and finishes the kiosk ticket from the counter pad; the rating pad rates it once', async () => {
    expect(hidTargets[0]).toEqual({ vendorId: 0x1209, productId: 0xa0c1 });
    // nobody works the counter yet: the server refuses, nothing is called
    press(0x01); press(0x00);
    await until(() => outcomesOf('call-next').length === 1, 'the refused call');
    expect(outcomesOf('call-next')[0]).toMatchObject({ result: 'refused', httpStatus: 409, code: 'COUNTER_NOT_OPEN' });

    const official = (await api('', 'POST', '/auth/login', { username: 'canbo_pad', password: STAFF_PASSWORD })).body.token as string;
    expect((await api(official, 'POST', `/counters/${counterId}/open`)).status).toBe(200);
    const issued = await api(kioskToken, 'POST', `/sites/${siteId}/tickets`, { serviceId });
    expect(issued.status).toBe(201);
    const ticket = issued.body.ticket as { id: string; code: string };

    // "next" with a bouncing contact: pressed, released, pressed again within a few ms
    await sleep(250);
    press(0x01); press(0x00); press(0x01); press(0x00);
    await until(() => outcomesOf('call-next').length === 2, 'the call');
    await sleep(300);
    expect(outcomesOf('call-next')).toHaveLength(2); // the bounce did not call again
    expect(outcomesOf('call-next')[1]).toMatchObject({ result: 'done', httpStatus: 200, ticket: { id: ticket.id, code: ticket.code } });
    expect(await ticketRow(ticket.id)).toMatchObject({ status: 'called', counterId });
    expect(agentLog.some((l) => l.pad === 'counter pad' && l.msg === 'pad: bounce ignored')).toBe(true);

    // recall, held down for a while (the box repeats its report): announced once more
    press(0x02); press(0x02); press(0x02); press(0x00);
    await until(() => outcomesOf('recall').length === 1, 'the recall');
    expect(outcomesOf('recall')[0]).toMatchObject({ result: 'done', ticket: { code: ticket.code } });
    const recalls = await t.db.selectFrom('ticketEvent').select('type').where('ticketId', '=', ticket.id).execute();
    expect(recalls.filter((e) => /recall/.test(e.type))).toHaveLength(1);

    press(0x04); press(0x00);
    await until(() => outcomesOf('finish').length === 1, 'the finish');
    expect(outcomesOf('finish')[0]).toMatchObject({ result: 'done', ticket: { code: ticket.code } });
    expect(await ticketRow(ticket.id)).toMatchObject({ status: 'done', staffId });

    // nothing at the counter any more: finish and next have nothing to act on
    await sleep(250);
    press(0x04); press(0x00);
    press(0x01); press(0x00);
    await until(() => outcomesOf('finish').length === 2 && outcomesOf('call-next').length === 3, 'the idle presses');
    expect(outcomesOf('finish')[1]).toMatchObject({ result: 'nothing', message: 'this counter has no current ticket' });
    expect(outcomesOf('call-next')[2]).toMatchObject({ result: 'nothing', httpStatus: 204 });

    // the citizen presses the "Không hài lòng" key (auto-repeat while held is not a press)
    await typeKey('KEY_KP3', KEY_PRESS, KEY_REPEAT, KEY_REPEAT, KEY_RELEASE);
    const rated = () => t.db.selectFrom('rating').selectAll().where('ticketId', '=', ticket.id).execute();
    await until(async () => (await rated()).length === 1, 'the rating');
    const [rating] = await rated();
    expect(rating).toMatchObject({ score: 1, reason: 'other', counterId, staffId, channel: 'tablet' });
    const lowAlerts = await t.db.selectFrom('alert').selectAll().where('kind', '=', 'low_rating').where('ticketId', '=', ticket.id).execute();
    expect(lowAlerts).toHaveLength(1);

    // a second press, and a change of mind: both reach the server and are refused there
    await sleep(250);
    await typeKey('KEY_KP3', KEY_PRESS, KEY_RELEASE);
    await until(() => padLines(/refused/).length === 1, 'the first refusal');
    await sleep(250);
    await typeKey('KEY_KP1', KEY_PRESS, KEY_RELEASE);
    await until(() => padLines(/refused/).length === 2, 'the second refusal');
    for (const line of padLines(/refused/)) {
      expect(line).toMatchObject({ httpStatus: 409, code: 'ALREADY_RATED', ticket: { id: ticket.id, code: ticket.code } });
    }
    expect(await rated()).toEqual([rating]); // nothing changed
    expect(await t.db.selectFrom('alert').select('id').where('kind', '=', 'low_rating').execute()).toHaveLength(1);
  });

  it('sends criticism from the rating pad to the managers as an alert of the counter', async () => {
    await typeKey('KEY_KPENTER', KEY_PRESS, KEY_RELEASE);
    await until(() => padLines(/done/).some((l) => l.action === 'criticism'), 'the criticism');
    const alerts = await t.db.selectFrom('alert').selectAll().where('kind', '=', 'criticism').execute();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ siteId, counterId });
  });

  it('starts, marks a no-show, pauses and resumes from the counter pad; the server refuses what the ticket cannot do', async () => {
    const counterRow = () => t.db.selectFrom('counter').select(['status', 'pauseReason']).where('id', '=', counterId).executeTakeFirstOrThrow();
    const issue = async () => (await api(kioskToken, 'POST', `/sites/${siteId}/tickets`, { serviceId })).body.ticket as { id: string; code: string };
    const b = await issue();
    const c = await issue();
    const step = async (bits: number, action: string, count: number) => {
      press(bits); press(0x00);
      await until(() => outcomesOf(action).length === count, action);
      return outcomesOf(action)[count - 1]!;
    };
    await sleep(250);
    expect(await step(0x01, 'call-next', 4)).toMatchObject({ result: 'done', ticket: { id: b.id } });
    expect(await step(0x10, 'start', 1)).toMatchObject({ result: 'done', ticket: { id: b.id } });
    expect(await ticketRow(b.id)).toMatchObject({ status: 'serving' });
    // a ticket being served cannot be a no-show
    expect(await step(0x08, 'no-show', 1)).toMatchObject({ result: 'refused', httpStatus: 409, code: 'TICKET_NOT_CALLED' });
    expect(await ticketRow(b.id)).toMatchObject({ status: 'serving' });
    await sleep(250);
    expect(await step(0x04, 'finish', 3)).toMatchObject({ result: 'done', ticket: { id: b.id } });
    await sleep(250);
    expect(await step(0x01, 'call-next', 5)).toMatchObject({ result: 'done', ticket: { id: c.id } });
    await sleep(250);
    expect(await step(0x08, 'no-show', 2)).toMatchObject({ result: 'done', ticket: { id: c.id } });
    expect(await ticketRow(c.id)).toMatchObject({ status: 'no_show' });

    expect(await step(0x20, 'pause', 1)).toMatchObject({ result: 'done' });
    expect(await counterRow()).toMatchObject({ status: 'paused', pauseReason: 'Nghỉ giữa giờ' });
    const d = await issue();
    await sleep(250);
    expect(await step(0x01, 'call-next', 6)).toMatchObject({ result: 'refused', httpStatus: 409 });
    expect(await ticketRow(d.id)).toMatchObject({ status: 'waiting' });
    expect(await step(0x40, 'resume', 1)).toMatchObject({ result: 'done' });
    expect(await counterRow()).toMatchObject({ status: 'open' });
    await sleep(250);
    expect(await step(0x01, 'call-next', 7)).toMatchObject({ result: 'done', ticket: { id: d.id } });
    await sleep(250);
    expect(await step(0x04, 'finish', 4)).toMatchObject({ result: 'done', ticket: { id: d.id } });

    // a rating pad without lowRatingReason: the lowest score is stored without a reason
    const plain = new PadDispatcher(agent.link('rating-1')!.api, { name: 'plain rating pad' });
    expect(await plain.dispatch({ kind: 'rating', name: 'score', score: 1 })).toMatchObject({ result: 'done', httpStatus: 201, ticket: { id: d.id } });
    expect(await t.db.selectFrom('rating').select(['score', 'reason']).where('ticketId', '=', d.id).execute()).toEqual([{ score: 1, reason: null }]);
    // C was a no-show, B was never rated but is older than D: the pad stays on D and is refused
    expect(await plain.dispatch({ kind: 'rating', name: 'score', score: 3 })).toMatchObject({ result: 'refused', code: 'ALREADY_RATED', ticket: { id: d.id } });
    expect(await t.db.selectFrom('rating').select('id').where('ticketId', '=', b.id).execute()).toEqual([]);
  });
});
