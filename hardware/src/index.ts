export { renderTicket, WIDTH_58MM, WIDTH_80MM, type RenderTicketOptions, type TicketRaster } from './ticket/ticket.render.ts';
export { ticketTexts, formatIssuedAt, formatWait, DEFAULT_TIME_ZONE, type TicketPrintData, type TicketTexts } from './ticket/ticket.text.ts';
export { bitmapToPng, bitmapToRgba, bytesPerRow, cropBitmap, inkBounds, isBlack, type MonoBitmap } from './raster/raster.bitmap.ts';
export { encodeTicket, statusRequest, type EncodeTicketOptions } from './escpos/escpos.encode.ts';
export { decodeEscPos, type DecodedJob, type EscPosCommand } from './escpos/escpos.decode.ts';
export { createTransport, type PrinterTransport, type TransportConfig } from './printer/printer.transport.ts';
export { TcpTransport, type TcpTransportOptions } from './printer/tcp.transport.ts';
export { DeviceFileTransport, type DeviceFileTransportOptions } from './printer/device-file.transport.ts';
export { SerialTransport, type SerialTransportOptions } from './printer/serial.transport.ts';
export {
  PrinterOfflineError,
  isStatusByte,
  parseStatus,
  requestStatus,
  type PrinterStatus,
  type StatusReplies,
} from './printer/printer.status.ts';
export { printTicket, type PrintResult, type PrintFailureReason, type PrintTicketOptions } from './printer/printer.print.ts';
