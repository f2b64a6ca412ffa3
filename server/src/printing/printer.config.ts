import { Type, type Static } from 'typebox';

// The network printer of a kiosk, kept in `device.settings.printer`. Only raw TCP (port 9100)
// printers are driven by the server; USB and serial printers belong to the kiosk PC and its
// site agent (docs/printing.md), so they are not accepted here.

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

/** PUT body: a printer, or null to take it away. */
export const PrinterBody = Type.Union([TcpPrinterBody, Type.Null()]);

export const PrinterReply = Type.Object({
  deviceId: Type.String(),
  printer: Type.Union([TcpPrinterBody, Type.Null()]),
});

/** The printer stored for a device, or null when none (or when the stored value is not one we know). */
export function printerOf(settings: Record<string, unknown> | null | undefined): TcpPrinter | null {
  const value = settings?.printer as Partial<TcpPrinter> | null | undefined;
  if (!value || value.kind !== 'tcp' || typeof value.host !== 'string' || !value.host) return null;
  const printer: TcpPrinter = { kind: 'tcp', host: value.host };
  if (Number.isInteger(value.port)) printer.port = value.port!;
  if (Number.isInteger(value.widthDots)) printer.widthDots = value.widthDots!;
  return printer;
}

export const describePrinter = (p: TcpPrinter) => `tcp://${p.host.includes(':') && !p.host.startsWith('[') ? `[${p.host}]` : p.host}:${p.port ?? 9100}`;
