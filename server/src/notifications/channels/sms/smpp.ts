import { createHash } from 'node:crypto';
import smpp from 'smpp';
import { Type, type Static } from 'typebox';
import { DeliveryError, type Channel, type Outgoing, type Sent } from '../channel.ts';
import { smsCost, smsParts, smsSegments } from './sms-text.ts';

// SMS over SMPP 3.4, the protocol of telcos and SMS aggregators: one bind_transceiver kept open
// and used by every message, bound again after the connection drops. A brand-name sender is
// the source address, sent alphanumeric (TON 5, NPI 0). GSM-7 text goes with data_coding 0,
// UCS-2 (UTF-16BE) with 8; a longer text is several submit_sm with a concatenation header (UDH
// 05 00 03 ref total index, esm_class 0x40), all of which must be accepted.
//
// The message's key rides in a vendor-specific optional parameter (TLV 0x1400, a C-string), so
// an SMSC or aggregator that agrees to it can drop a retry. Each segment carries "key:index",
// so every submit_sm is a duplicate only of itself, and the UDH reference comes from the key, so
// a retry after segment 2 of 3 failed sends the same segments again and the handset can still
// put them together. A real SMSC does not know this TLV and ignores it (SMPP 3.4 has a receiver
// skip optional parameters it does not support): with one, a crash between the SMSC's answer
// and the worker's record of it can still mean a second SMS.

export const SmppSettings = Type.Object({
  provider: Type.Literal('smpp'),
  host: Type.String({ minLength: 1, maxLength: 255 }),
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  systemId: Type.String({ minLength: 1, maxLength: 15 }),
  systemType: Type.Optional(Type.String({ maxLength: 12 })),
  sourceAddr: Type.String({ minLength: 1, maxLength: 11, description: 'the brand name (alphanumeric, up to 11) or a short code' }),
  encoding: Type.Enum(['unaccented', 'ucs2']),
  pricePerSegment: Type.Optional(Type.Number({ minimum: 0 })),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 60_000 })),
}, { additionalProperties: false });
export type SmppSettings = Static<typeof SmppSettings>;
export interface SmppSecrets { password?: string }

/** The TLV that carries the message's key (vendor-specific range 0x1400–0x3FFF). */
export const KEY_TLV = { name: 'qms_message_key', id: 0x1400 };
smpp.addTLV(KEY_TLV.name, { id: KEY_TLV.id, type: smpp.types.cstring });

/**
 * Refusals a later try may not meet: the SMSC is busy, its queue is full, or it failed itself.
 * Everything else (a bad destination or source address, a wrong password, a text it rejects)
 * will be refused again.
 */
const RETRYABLE = new Set([smpp.errors.ESME_RTHROTTLED, smpp.errors.ESME_RMSGQFUL, smpp.errors.ESME_RSYSERR, smpp.errors.ESME_RSUBMITFAIL]);
const statusName = (status: number) => Object.entries(smpp.errors).find(([, v]) => v === status)?.[0] ?? `0x${status.toString(16)}`;

const refused = (what: string, status: number) =>
  new DeliveryError(`the SMSC refused ${what} (${statusName(status)})`, { retryable: RETRYABLE.has(status) });

/** A bind in use: submit_sm that fails at once when the connection ends, and a way to end it. */
interface Bound {
  session: smpp.Session;
  submit(fields: Record<string, unknown>): Promise<smpp.Pdu>;
  /** closes the connection and forgets the bind now, so the next send binds again */
  drop(error: DeliveryError): void;
}

export function createSmppChannel(settings: SmppSettings, secrets: SmppSecrets): Channel {
  const timeoutMs = settings.timeoutMs ?? 10_000;
  const alphanumeric = /[A-Za-z]/.test(settings.sourceAddr);
  let bound: Promise<Bound> | undefined;

  // one bind shared by every send; forgotten when its connection closes, so the next send binds again
  const bind = (): Promise<Bound> => {
    if (bound) return bound;
    const attempt = new Promise<Bound>((resolve, reject) => {
      const session = smpp.connect({ host: settings.host, port: settings.port, auto_enquire_link_period: 30_000 });
      // submit_sm waiting for an answer that a closed connection will never bring
      const waiting = new Set<(error: DeliveryError) => void>();
      const fail = (error: DeliveryError) => {
        clearTimeout(timer);
        if (bound === attempt) bound = undefined;
        session.destroy();
        for (const stop of waiting) stop(error);
        waiting.clear();
        reject(error);
      };
      const timer = setTimeout(() => fail(new DeliveryError('the SMSC did not answer the bind in time', { retryable: true })), timeoutMs);
      session.on('error', (error: Error) => fail(new DeliveryError(`the SMSC connection failed: ${error.message}`, { retryable: true, cause: error })));
      session.on('close', () => fail(new DeliveryError('the SMSC closed the connection', { retryable: true })));
      // what an SMSC asks of a bound ESME: unanswered, it drops the bind
      session.on('enquire_link', (pdu: smpp.Pdu) => session.send(pdu.response()));
      session.on('deliver_sm', (pdu: smpp.Pdu) => session.send(pdu.response()));
      session.on('unbind', (pdu: smpp.Pdu) => {
        session.send(pdu.response());
        session.close();
      });
      const submit = (fields: Record<string, unknown>) => new Promise<smpp.Pdu>((resolveSubmit, rejectSubmit) => {
        waiting.add(rejectSubmit);
        const written = session.submit_sm(fields, (pdu) => {
          waiting.delete(rejectSubmit);
          if (pdu.command_status === 0) resolveSubmit(pdu);
          else rejectSubmit(refused('the message', pdu.command_status));
        });
        if (!written) fail(new DeliveryError('the SMSC connection is closed', { retryable: true }));
      });
      session.on('connect', () => {
        session.bind_transceiver({ system_id: settings.systemId, password: secrets.password ?? '', system_type: settings.systemType ?? '', interface_version: 0x34 }, (pdu) => {
          if (pdu.command_status !== 0) return fail(refused('the bind', pdu.command_status));
          clearTimeout(timer);
          resolve({ session, submit, drop: fail });
        });
      });
    });
    bound = attempt;
    return attempt;
  };

  return {
    kind: 'sms',
    async send(message: Outgoing, signal: AbortSignal): Promise<Sent> {
      const parts = smsParts(message.text, settings.encoding);
      const segments = smsSegments(parts);
      const deadline = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
      const { submit, drop } = await abortable(bind(), deadline);
      const ref = createHash('sha256').update(message.key).digest()[0]!;
      let last: smpp.Pdu | undefined;
      try {
        for (const [i, text] of segments.entries()) {
          const concatenated = segments.length > 1;
          last = await abortable(submit({
            source_addr_ton: alphanumeric ? 5 : 1, source_addr_npi: alphanumeric ? 0 : 1, source_addr: settings.sourceAddr,
            dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: message.to,
            esm_class: concatenated ? 0x40 : 0x00,
            data_coding: parts.encoding === 'ucs2' ? 0x08 : 0x00,
            short_message: concatenated ? { udh: Buffer.from([0x05, 0x00, 0x03, ref, segments.length, i + 1]), message: text } : text,
            registered_delivery: 0,
            [KEY_TLV.name]: concatenated ? `${message.key}:${i + 1}` : message.key,
          }), deadline);
        }
      } catch (error) {
        // an SMSC that stopped answering is most likely a connection gone half-open: bind afresh
        if (deadline.aborted && !signal.aborted) drop(error as DeliveryError);
        throw error;
      }
      return {
        segments: parts.segments, ...(typeof last?.message_id === 'string' ? { providerId: last.message_id } : {}),
        ...(settings.pricePerSegment !== undefined ? { cost: smsCost(parts, settings.pricePerSegment) } : {}),
      };
    },
    async close() {
      const session = (await bound?.catch(() => undefined))?.session;
      bound = undefined;
      if (!session) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          session.destroy();
          resolve();
        }, 1000);
        session.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        if (!session.unbind({}, () => session.close())) session.destroy();
      });
    },
  };
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const stop = () => reject(new DeliveryError(
      (signal.reason as Error | undefined)?.name === 'TimeoutError' ? 'the SMSC did not answer in time' : 'the send was stopped',
      { retryable: true, cause: signal.reason },
    ));
    signal.addEventListener('abort', stop, { once: true });
    if (signal.aborted) stop();
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}
