import { Type, type Static } from 'typebox';

// The printer of a kiosk, kept in `device.settings.printer`: a raw TCP (port 9100) network
// printer the server drives itself, or `{kind:'agent'}`, a USB or serial printer on the kiosk
// PC that the site agent drives (docs/site-agent.md). The agent's own config says which port
// and paper width; the server only needs to know where to send the ticket.

const strict = { additionalProperties: false } as const;

/** A host name or an IPv4/IPv6 address, nothing that could carry a path, user or scheme. */
const Host = Type.String({ minLength: 1, maxLength: 253, pattern: '^(\\[?[0-9A-Fa-f:.]+\\]?|[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*)$' });

export const TcpPrinterBody = Type.Object({
  kind: Type.Literal('tcp'),
  host: Host,
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_535, description: 'raw printing port, 9100 when absent' })),
  widthDots: Type.Optional(Type.Integer({ minimum: 128, maximum: 1024, multipleOf: 8, description: '576 for 80 mm paper (default), 384 for 58 mm' })),
}, strict);
export type TcpPrinter = Static<typeof TcpPrinterBody>;

export const AgentPrinterBody = Type.Object({
  kind: Type.Literal('agent', { description: "printed by the site agent on this kiosk PC (USB or serial printer; docs/site-agent.md)" }),
  deviceId: Type.Optional(Type.String({
    format: 'uuid',
    description: 'the device the site agent is paired as, when it is not this kiosk itself (a device has one token, so an agent beside a paired kiosk screen pairs as its own device of the site)',
  })),
}, strict);
export type AgentPrinter = Static<typeof AgentPrinterBody>;

export const KioskPrinterBody = Type.Union([TcpPrinterBody, AgentPrinterBody]);
export type KioskPrinter = TcpPrinter | AgentPrinter;

/** PUT body: a printer, or null to take it away. */
export const PrinterBody = Type.Union([TcpPrinterBody, AgentPrinterBody, Type.Null()]);

export const PrinterReply = Type.Object({
  deviceId: Type.String(),
  printer: Type.Union([TcpPrinterBody, AgentPrinterBody, Type.Null()]),
});

/** The printer stored for a device, or null when none (or when the stored value is not one we know). */
export function printerOf(settings: Record<string, unknown> | null | undefined): KioskPrinter | null {
  const value = settings?.printer as Partial<TcpPrinter> | Partial<AgentPrinter> | null | undefined;
  if (value?.kind === 'agent') {
    const deviceId = (value as Partial<AgentPrinter>).deviceId;
    return typeof deviceId === 'string' && deviceId ? { kind: 'agent', deviceId } : { kind: 'agent' };
  }
  if (!value || value.kind !== 'tcp' || typeof value.host !== 'string' || !value.host) return null;
  const printer: TcpPrinter = { kind: 'tcp', host: value.host };
  if (Number.isInteger(value.port)) printer.port = value.port!;
  if (Number.isInteger(value.widthDots)) printer.widthDots = value.widthDots!;
  return printer;
}

export const describePrinter = (p: KioskPrinter) => p.kind === 'agent'
  ? 'site agent'
  : `tcp://${p.host.includes(':') && !p.host.startsWith('[') ? `[${p.host}]` : p.host}:${p.port ?? 9100}`;
