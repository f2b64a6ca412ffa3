// The printer of a kiosk, kept in `device.settings.printer`: a raw TCP (port 9100) network
// printer the server drives itself, or `{kind:'agent'}`, a USB or serial printer on the kiosk
// PC that the site agent drives (docs/site-agent.md). The agent's own config says which port
// and paper width; the server only needs to know where to send the ticket.

export {
  AgentPrinterBody, KioskPrinterBody, PrinterBody, PrinterReply, TcpPrinterBody, type AgentPrinter, type KioskPrinter, type TcpPrinter,
} from '@qms/protocol';
import type { AgentPrinter, KioskPrinter, TcpPrinter } from '@qms/protocol';

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
