import smpp from 'smpp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryError, type Outgoing } from '../../src/notifications/channels/channel.ts';
import { createSmppChannel, KEY_TLV, type SmppSettings } from '../../src/notifications/channels/sms/smpp.ts';

// SMS over SMPP against a real SMPP server (the `smpp` package's) on 127.0.0.1, which checks the
// bind's password, decodes GSM-7 and UCS-2, puts concatenated segments back together by their
// UDH, and drops a message key it already has, as an aggregator that honours it would.

interface Delivered { to: string; from: string; text: string; dataCoding: number; segments: number }

let server: smpp.Server;
let port: number;
const delivered: Delivered[] = [];
const sessions: smpp.Session[] = [];
let refuseNext: number | undefined;
const keys = new Set<string>();
const pending = new Map<string, { parts: string[]; got: number; pdu: smpp.Pdu }>();

beforeAll(async () => {
  server = smpp.createServer((session) => {
    sessions.push(session);
    session.on('error', () => {});
    session.on('bind_transceiver', (pdu: smpp.Pdu) => {
      const ok = pdu.system_id === 'ubnd-qn' && pdu.password === 'secret-1';
      session.send(pdu.response(ok ? {} : { command_status: smpp.errors.ESME_RINVPASWD }));
    });
    session.on('enquire_link', (pdu: smpp.Pdu) => session.send(pdu.response()));
    session.on('unbind', (pdu: smpp.Pdu) => {
      session.send(pdu.response());
      session.close();
    });
    session.on('submit_sm', (pdu: smpp.Pdu) => {
      if (refuseNext !== undefined) {
        session.send(pdu.response({ command_status: refuseNext }));
        refuseNext = undefined;
        return;
      }
      session.send(pdu.response({ message_id: `m${pdu.sequence_number}` }));
      const key = String(pdu[KEY_TLV.name]).replace(/:\d+$/, '');
      const sm = pdu.short_message as { message: string; udh?: number[][] };
      const concat = sm.udh?.find((ie) => ie[0] === 0x00);
      const [total, index] = concat ? [concat[3]!, concat[4]!] : [1, 1];
      const entry = pending.get(key) ?? { parts: Array<string>(total).fill(''), got: 0, pdu };
      if (entry.parts[index - 1] === '') entry.got++;
      entry.parts[index - 1] = sm.message;
      pending.set(key, entry);
      if (entry.got === total && !keys.has(key)) {
        keys.add(key);
        delivered.push({ to: String(pdu.destination_addr), from: String(pdu.source_addr), text: entry.parts.join(''), dataCoding: Number(pdu.data_coding), segments: total });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  for (const s of sessions) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  delivered.length = 0;
});

const settings = (over: Partial<SmppSettings> = {}): SmppSettings => ({
  provider: 'smpp', host: '127.0.0.1', port, systemId: 'ubnd-qn', sourceAddr: 'UBND-QN', encoding: 'ucs2', pricePerSegment: 650, timeoutMs: 3000, ...over,
});
let n = 0;
const message = (text: string): Outgoing => ({ key: `msg-${++n}`, to: '84912345678', purpose: 'ticket_called', lang: 'vi', text, params: {} });
const signal = () => AbortSignal.timeout(5000);
const TEXT = 'Trung tâm PVHCC: Mời số A012 đến quầy 3.';

describe('SMS over SMPP', () => {
  it('sends Vietnamese with its accents in UCS-2, or unaccented in GSM-7, from the brand name', async () => {
    const ucs2 = createSmppChannel(settings(), { password: 'secret-1' });
    const gsm = createSmppChannel(settings({ encoding: 'unaccented' }), { password: 'secret-1' });
    try {
      expect(await ucs2.send(message(TEXT), signal())).toEqual({ segments: 1, providerId: expect.stringMatching(/^m\d+$/), cost: 650 });
      await gsm.send(message(TEXT), signal());
      expect(delivered).toEqual([
        { to: '84912345678', from: 'UBND-QN', text: TEXT, dataCoding: 8, segments: 1 },
        { to: '84912345678', from: 'UBND-QN', text: 'Trung tam PVHCC: Moi so A012 den quay 3.', dataCoding: 0, segments: 1 },
      ]);
    } finally {
      await ucs2.close();
      await gsm.close();
    }
  });

  it('sends a long text whole in concatenated segments, and costs each', async () => {
    const channel = createSmppChannel(settings(), { password: 'secret-1' });
    try {
      const long = `${TEXT} `.repeat(5).trim(); // 209 characters: 4 UCS-2 segments
      expect(await channel.send(message(long), signal())).toMatchObject({ segments: 4, cost: 2600 });
      expect(delivered).toEqual([expect.objectContaining({ text: long, segments: 4 })]);
    } finally {
      await channel.close();
    }
  });

  it('lets a peer that honours the key drop a retry', async () => {
    const channel = createSmppChannel(settings(), { password: 'secret-1' });
    try {
      const once = message(TEXT);
      await channel.send(once, signal());
      await channel.send(once, signal());
      expect(delivered).toHaveLength(1);
    } finally {
      await channel.close();
    }
  });

  it('says whether a refusal may pass on a retry: throttled yes, a bad password or number no', async () => {
    const channel = createSmppChannel(settings(), { password: 'secret-1' });
    const wrong = createSmppChannel(settings(), { password: 'not-it' });
    try {
      refuseNext = smpp.errors.ESME_RTHROTTLED;
      await expect(channel.send(message(TEXT), signal())).rejects.toMatchObject({ retryable: true, message: expect.stringContaining('ESME_RTHROTTLED') });
      refuseNext = smpp.errors.ESME_RINVDSTADR;
      await expect(channel.send(message(TEXT), signal())).rejects.toMatchObject({ retryable: false });
      const refused = await wrong.send(message(TEXT), signal()).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(DeliveryError);
      expect(refused).toMatchObject({ retryable: false, message: expect.stringContaining('ESME_RINVPASWD') });
      expect(delivered).toEqual([]);
    } finally {
      await channel.close();
      await wrong.close();
    }
  });

  it('binds again after the SMSC drops the connection', async () => {
    const channel = createSmppChannel(settings(), { password: 'secret-1' });
    try {
      await channel.send(message(TEXT), signal());
      for (const s of sessions) s.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      await channel.send(message(TEXT), signal());
      expect(delivered).toHaveLength(2);
    } finally {
      await channel.close();
    }
  });
});
