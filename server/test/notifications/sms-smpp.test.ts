import smpp from 'smpp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryError, type Outgoing } from '../../src/notifications/channels/channel.ts';
import { createSmppChannel, KEY_TLV, type SmppSettings } from '../../src/notifications/channels/sms/smpp.ts';

// SMS over SMPP against a real SMPP server (the `smpp` package's) on 127.0.0.1. It plays an SMSC
// that honours the key TLV: it checks the bind's system id and password, refuses a segment that
// would not fit in 140 octets, decodes GSM-7 and UCS-2, puts concatenated segments together by
// their UDH, and accepts but drops a submit_sm whose key it already has.

interface Delivered { to: string; from: string; fromTon: number; text: string; dataCoding: number; segments: number }

let server: smpp.Server;
let port: number;
const sessions: smpp.Session[] = [];
const peer = {
  binds: 0,
  unbinds: 0,
  submits: [] as smpp.Pdu[],
  delivered: [] as Delivered[],
  /** the status of each coming submit_sm, in turn (then 0, accepted); null: no answer at all */
  answers: [] as (number | null)[],
};
const keys = new Set<string>();
const concatenating = new Map<string, string[]>();

/** septets (GSM-7) or octets (UCS-2) of a segment, its UDH included, as the SMSC's 140 octets hold them */
function fits(pdu: smpp.Pdu, text: string, udh: boolean): boolean {
  if (pdu.data_coding === 0x08) return Buffer.byteLength(text, 'utf16le') + (udh ? 6 : 0) <= 140;
  let septets = 0;
  for (const c of text) septets += '^{}\\[~]|€\f'.includes(c) ? 2 : 1;
  return septets <= (udh ? 153 : 160);
}

function submitted(session: smpp.Session, pdu: smpp.Pdu) {
  peer.submits.push(pdu);
  const answer = peer.answers.length ? peer.answers.shift()! : 0;
  if (answer === null) return;
  const sm = pdu.short_message as { message: string; udh?: Buffer[] };
  const concat = sm.udh?.find((ie) => ie[0] === 0x00);
  if (answer === 0 && !fits(pdu, sm.message, concat !== undefined)) return session.send(pdu.response({ command_status: smpp.errors.ESME_RINVMSGLEN }));
  session.send(pdu.response(answer === 0 ? { message_id: `m${peer.submits.length}` } : { command_status: answer }));
  const key = String(pdu[KEY_TLV.name]);
  if (answer !== 0 || keys.has(key)) return;
  keys.add(key);
  const deliver = (text: string, segments: number) => peer.delivered.push({
    to: String(pdu.destination_addr), from: String(pdu.source_addr), fromTon: Number(pdu.source_addr_ton), text, dataCoding: Number(pdu.data_coding), segments,
  });
  if (!concat) return deliver(sm.message, 1);
  expect(Number(pdu.esm_class) & 0x40).toBe(0x40);
  const [, , ref, total, index] = concat;
  const whole = `${String(pdu.source_addr)}>${String(pdu.destination_addr)}#${ref}`;
  const parts = concatenating.get(whole) ?? Array<string>(total!).fill('');
  parts[index! - 1] = sm.message;
  concatenating.set(whole, parts);
  if (parts.every((p) => p !== '')) {
    concatenating.delete(whole);
    deliver(parts.join(''), total!);
  }
}

beforeAll(async () => {
  server = smpp.createServer((session) => {
    sessions.push(session);
    session.on('error', () => {});
    session.on('bind_transceiver', (pdu: smpp.Pdu) => {
      peer.binds++;
      const ok = pdu.system_id === 'ubnd-qn' && pdu.password === 'secret-1';
      session.send(pdu.response(ok ? {} : { command_status: smpp.errors.ESME_RINVPASWD }));
    });
    session.on('enquire_link', (pdu: smpp.Pdu) => session.send(pdu.response()));
    session.on('unbind', (pdu: smpp.Pdu) => {
      peer.unbinds++;
      session.send(pdu.response());
      session.close();
    });
    session.on('submit_sm', (pdu: smpp.Pdu) => submitted(session, pdu));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  for (const s of sessions) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  Object.assign(peer, { binds: 0, unbinds: 0, submits: [], delivered: [], answers: [] });
});

const settings = (over: Partial<SmppSettings> = {}): SmppSettings => ({
  provider: 'smpp', host: '127.0.0.1', port, systemId: 'ubnd-qn', sourceAddr: 'UBND-QN', encoding: 'ucs2', pricePerSegment: 650, timeoutMs: 3000, ...over,
});
let n = 0;
const message = (text: string): Outgoing => ({ key: `msg-${++n}`, to: '84912345678', purpose: 'ticket_called', lang: 'vi', text, params: {} });
const signal = () => AbortSignal.timeout(5000);
const TEXT = 'Mời số A012 đến quầy 3. Trung tâm Phục vụ hành chính công tỉnh Quảng Ninh';
const UNACCENTED = 'Moi so A012 den quay 3. Trung tam Phuc vu hanh chinh cong tinh Quang Ninh';
const SHORT = 'Mời số A012 đến quầy 3.';

describe('SMS over SMPP', () => {
  it('sends Vietnamese with its accents in UCS-2, or unaccented in GSM-7, from the brand name', async () => {
    const ucs2 = createSmppChannel(settings(), { password: 'secret-1' });
    const gsm = createSmppChannel(settings({ encoding: 'unaccented' }), { password: 'secret-1' });
    try {
      expect(await ucs2.send(message(SHORT), signal())).toEqual({ segments: 1, providerId: 'm1', cost: 650 });
      expect(await gsm.send(message(TEXT), signal())).toEqual({ segments: 1, providerId: 'm2', cost: 650 });
      expect(peer.delivered).toEqual([
        { to: '84912345678', from: 'UBND-QN', fromTon: 5, text: SHORT, dataCoding: 8, segments: 1 },
        { to: '84912345678', from: 'UBND-QN', fromTon: 5, text: UNACCENTED, dataCoding: 0, segments: 1 },
      ]);
    } finally {
      await ucs2.close();
      await gsm.close();
    }
  });

  it('sends a long text whole in concatenated segments, each one submit_sm, and costs each', async () => {
    const ucs2 = createSmppChannel(settings(), { password: 'secret-1' });
    const gsm = createSmppChannel(settings({ encoding: 'unaccented' }), { password: 'secret-1' });
    try {
      const long = `${TEXT} `.repeat(3).trim(); // 221 characters: 4 UCS-2 segments (67 each), 2 GSM-7 (153)
      expect(await ucs2.send(message(long), signal())).toEqual({ segments: 4, providerId: 'm4', cost: 2600 });
      expect(await gsm.send(message(long), signal())).toEqual({ segments: 2, providerId: 'm6', cost: 1300 });
      expect(peer.submits).toHaveLength(6);
      expect(peer.delivered).toEqual([
        expect.objectContaining({ text: long, dataCoding: 8, segments: 4 }),
        expect.objectContaining({ text: `${UNACCENTED} `.repeat(3).trim(), dataCoding: 0, segments: 2 }),
      ]);
    } finally {
      await ucs2.close();
      await gsm.close();
    }
  });

  it('lets a peer that honours the key drop a retry, even of a long text refused half-way', async () => {
    const channel = createSmppChannel(settings(), { password: 'secret-1' });
    try {
      const once = message(SHORT);
      await channel.send(once, signal());
      await channel.send(once, signal());
      expect(peer.submits).toHaveLength(2);
      expect(peer.delivered).toHaveLength(1);

      // segment 2 of 3 throttled: the retry sends all three again, with the same UDH reference,
      // and the peer keeps the first segment once and completes the text
      const long = message(`${TEXT} `.repeat(2).trim());
      peer.answers.push(0, smpp.errors.ESME_RTHROTTLED);
      await expect(channel.send(long, signal())).rejects.toMatchObject({ retryable: true });
      expect(await channel.send(long, signal())).toMatchObject({ segments: 3 });
      expect(peer.delivered).toEqual([expect.anything(), expect.objectContaining({ text: long.text, segments: 3 })]);
    } finally {
      await channel.close();
    }
  });

  it('says whether a refusal may pass on a retry: throttled yes, a bad number or password no', async () => {
    const channel = createSmppChannel(settings(), { password: 'secret-1' });
    const wrong = createSmppChannel(settings(), { password: 'not-it' });
    try {
      peer.answers.push(smpp.errors.ESME_RTHROTTLED, smpp.errors.ESME_RMSGQFUL, smpp.errors.ESME_RINVDSTADR, smpp.errors.ESME_RINVSRCADR);
      const outcome = async () => {
        const error = await channel.send(message(SHORT), signal()).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DeliveryError);
        return { retryable: (error as DeliveryError).retryable, message: (error as DeliveryError).message };
      };
      expect(await outcome()).toEqual({ retryable: true, message: 'the SMSC refused the message (ESME_RTHROTTLED)' });
      expect(await outcome()).toMatchObject({ retryable: true, message: expect.stringContaining('ESME_RMSGQFUL') });
      expect(await outcome()).toMatchObject({ retryable: false, message: expect.stringContaining('ESME_RINVDSTADR') });
      expect(await outcome()).toMatchObject({ retryable: false, message: expect.stringContaining('ESME_RINVSRCADR') });
      await expect(wrong.send(message(SHORT), signal())).rejects.toMatchObject({ retryable: false, message: 'the SMSC refused the bind (ESME_RINVPASWD)' });
      expect(peer.delivered).toEqual([]);
    } finally {
      await channel.close();
      await wrong.close();
    }
  });

  it('keeps one bind for every message, and unbinds on close', async () => {
    const channel = createSmppChannel(settings(), { password: 'secret-1' });
    await Promise.all([1, 2, 3, 4, 5].map(() => channel.send(message(SHORT), signal())));
    await channel.send(message(SHORT), signal());
    expect(peer.binds).toBe(1);
    await channel.close();
    expect(peer.unbinds).toBe(1);
    expect(peer.delivered).toHaveLength(6);
  });

  it('binds again after the SMSC drops the connection', async () => {
    const channel = createSmppChannel(settings(), { password: 'secret-1' });
    try {
      await channel.send(message(SHORT), signal());
      for (const s of sessions) s.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      await channel.send(message(SHORT), signal());
      expect(peer.binds).toBe(2);
      expect(peer.delivered).toHaveLength(2);
    } finally {
      await channel.close();
    }
  });

  it('gives up on an SMSC that does not answer, or when stopped, and binds afresh next time', async () => {
    const channel = createSmppChannel(settings({ timeoutMs: 300 }), { password: 'secret-1' });
    try {
      peer.answers.push(null);
      await expect(channel.send(message(SHORT), signal())).rejects.toMatchObject({ retryable: true, message: 'the SMSC did not answer in time' });
      const stop = new AbortController();
      peer.answers.push(null);
      const stopped = channel.send(message(SHORT), stop.signal);
      setTimeout(() => stop.abort(), 50);
      await expect(stopped).rejects.toMatchObject({ retryable: true, message: 'the send was stopped' });
      await expect(channel.send(message(SHORT), AbortSignal.abort())).rejects.toMatchObject({ retryable: true });
      await channel.send(message(SHORT), signal());
      expect(peer.binds).toBe(2);
      expect(peer.delivered).toHaveLength(1);
    } finally {
      await channel.close();
    }
  });

  it('says an SMSC that cannot be reached may be tried again', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = smpp.createServer(() => {});
      probe.listen(0, '127.0.0.1', () => {
        const free = (probe.address() as { port: number }).port;
        probe.close(() => resolve(free));
      });
    });
    const channel = createSmppChannel(settings({ port: closed }), { password: 'secret-1' });
    await expect(channel.send(message(SHORT), signal())).rejects.toMatchObject({ retryable: true, message: expect.stringContaining('ECONNREFUSED') });
    await channel.close();
  });
});
