// What this project uses of the `smpp` package (it ships no types).
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer } from 'node:net';
  export interface Pdu {
    command: string;
    command_status: number;
    sequence_number: number;
    [field: string]: unknown;
    response(options?: Record<string, unknown>): Pdu;
  }
  export interface Session extends EventEmitter {
    send(pdu: Pdu, onResponse?: (pdu: Pdu) => void): boolean;
    // each request is false, unsent, when the connection is no longer writable
    bind_transceiver(options: Record<string, unknown>, onResponse: (pdu: Pdu) => void): boolean;
    submit_sm(options: Record<string, unknown>, onResponse: (pdu: Pdu) => void): boolean;
    unbind(options?: Record<string, unknown>, onResponse?: (pdu: Pdu) => void): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
  }
  export type Server = NetServer;
  export function connect(options: { host: string; port: number; auto_enquire_link_period?: number }, onConnect?: () => void): Session;
  export function createServer(listener: (session: Session) => void): Server;
  export function addTLV(tag: string, options: { id: number; type: unknown }): void;
  export const types: { cstring: unknown };
  /** command_status by name (all of SMPP 3.4's; those named here are the ones used) */
  export const errors: Record<string, number> & Record<
    'ESME_RTHROTTLED' | 'ESME_RMSGQFUL' | 'ESME_RSYSERR' | 'ESME_RSUBMITFAIL' | 'ESME_RINVPASWD' | 'ESME_RINVDSTADR' | 'ESME_RINVSRCADR' | 'ESME_RINVMSGLEN',
    number
  >;
}
