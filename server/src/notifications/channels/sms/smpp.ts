import smpp from 'smpp';
import { Type, type Static } from 'typebox';
import { DeliveryError, type Channel, type Outgoing, type Sent } from '../channel.ts';
import { smsCost, smsParts, type SmsParts } from './sms-text.ts';

// SMS over SMPP 3.4, the protocol of telcos and SMS aggregators: one bind_transceiver kept open
// and used by every message, bound again after the connection drops. A brand-name sender is
// the source address, sent alphanumeric (TON 5, NPI 0). GSM-7 text goes with data_coding 0,
// UCS-2 (UTF-16BE) with 8; a longer text is several submit_sm with a concatenation header (UDH
// 00 03 ref total index), all of which must be accepted. The message's key rides in a
// vendor-specific TLV (0x1400), so an SMSC or aggregator that knows it can drop a retry; one that
// does not ignores it (SMPP 3.4 §3.2.4.1: unknown optional parameters are ignored), and a crash
// between an SMSC's answer and our record of it can then mean a second SMS.

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

/** Refusals a later try may not meet: the SMSC is busy or its queue full, or it failed itself. */
const RETRYABLE = new Set([smpp.errors.ESME_RTHROTTLED, smpp.errors.ESME_RMSGQFUL, smpp.errors.ESME_RSYSERR, smpp.errors.ESME_RSUBMITFAIL]);
const statusName = (status: number) => Object.entries(smpp.errors).find(([, v]) => v === status)?.[0] ?? `0x${status.toString(16)}`;

const SEGMENT = { gsm7: 153, ucs2: 67 } as const;

/** The text in segments of a concatenated SMS: 153 septets (an extension character two) or 67 UTF-16 units, never splitting a character. */
export function segmentsOf(parts: SmsParts): string[] {
  if (parts.segments === 1) return [parts.text];
  const out: string[] = [];
  let current = '';
  let size = 0;
  for (const c of parts.text) {
    const cost = parts.encoding === 'ucs2' ? c.length : '^{}\\[~]|€\f'.includes(c) ? 2 : 1;
    if (size + cost > SEGMENT[parts.encoding]) {
      out.push(current);
      current = '';
      size = 0;
    }
    current += c;
    size += cost;
  }
  out.push(current);
  return out;
}

export function createSmppChannel(settings: SmppSettings, secrets: SmppSecrets): Channel {
  const timeoutMs = settings.timeoutMs ?? 10_000;
  let bound: Promise<smpp.Session> | undefined;
  let reference = Math.floor(Math.random() * 256);

  const bind = () => {
    bound ??= new Promise<smpp.Session>((resolve, reject) => {
      const session = smpp.connect({ host: settings.host, port: settings.port, auto_enquire_link_period: 30_000 });
      const lost = (error?: Error) => {
        bound = undefined;
        reject(new DeliveryError(`the SMSC connection failed: ${error?.message ?? 'closed'}`, { retryable: true, cause: error }));
      };
      session.on('error', lost);
      session.on('close', () => lost());
      session.on('connect', () => {
        session.bind_transceiver({ system_id: settings.systemId, password: secrets.password ?? '', system_type: settings.systemType ?? '', interface_version: 0x34 }, (pdu) => {
          if (pdu.command_status === 0) return resolve(session);
          bound = undefined;
          session.destroy();
          // a wrong password or system id will not mend itself
          reject(new DeliveryError(`the SMSC refused the bind (${statusName(pdu.command_status)})`, { retryable: RETRYABLE.has(pdu.command_status) }));
        });
      });
      // an SMSC that says nothing at all
      setTimeout(() => reject(new DeliveryError('the SMSC did not answer the bind in time', { retryable: true })), timeoutMs).unref();
    });
    return bound;
  };

  const submit = (session: smpp.Session, fields: Record<string, unknown>, signal: AbortSignal) => new Promise<smpp.Pdu>((resolve, reject) => {
    const timer = setTimeout(() => reject(new DeliveryError('the SMSC did not answer in time', { retryable: true })), timeoutMs);
    signal.addEventListener('abort', () => reject(new DeliveryError('stopped', { retryable: true })), { once: true });
    session.submit_sm(fields, (pdu) => {
      clearTimeout(timer);
      if (pdu.command_status === 0) return resolve(pdu);
      reject(new DeliveryError(`the SMSC refused the message (${statusName(pdu.command_status)})`, { retryable: RETRYABLE.has(pdu.command_status) }));
    });
  });

  return {
    kind: 'sms',
    async send(message: Outgoing, signal: AbortSignal): Promise<Sent> {
      const parts = smsParts(message.text, settings.encoding);
      const session = await bind();
      const segments = segmentsOf(parts);
      const ref = (reference = (reference + 1) % 256);
      const alphanumeric = /[A-Za-z]/.test(settings.sourceAddr);
      let last: smpp.Pdu | undefined;
      for (const [i, text] of segments.entries()) {
        const udh = segments.length > 1 ? Buffer.from([0x05, 0x00, 0x03, ref, segments.length, i + 1]) : undefined;
        last = await submit(session, {
          source_addr_ton: alphanumeric ? 5 : 1, source_addr_npi: alphanumeric ? 0 : 1, source_addr: settings.sourceAddr,
          dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: message.to,
          data_coding: parts.encoding === 'ucs2' ? 0x08 : 0x00,
          short_message: udh ? { udh, message: text } : text,
          registered_delivery: 0,
          [KEY_TLV.name]: segments.length > 1 ? `${message.key}:${i + 1}` : message.key,
        }, signal);
      }
      return {
        segments: parts.segments, ...(typeof last?.message_id === 'string' ? { providerId: last.message_id } : {}),
        ...(settings.pricePerSegment !== undefined ? { cost: smsCost(parts, settings.pricePerSegment) } : {}),
      };
    },
    async close() {
      const session = await bound?.catch(() => undefined);
      bound = undefined;
      if (!session) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => session.destroy(() => resolve()), 1000);
        session.unbind({}, () => {
          clearTimeout(timer);
          session.close(() => resolve());
        });
      });
    },
  };
}
