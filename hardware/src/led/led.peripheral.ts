import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { isAtCounter } from '@qms/protocol/lifecycle';
import type { AgentDeviceApi, Peripheral } from '../agent/peripheral.ts';
import { PeripheralConfigError } from '../agent/peripherals.ts';
import { codeToRegisters, type LedLayout } from './led.layout.ts';
import { ModbusRtuPort, type SerialBinding } from './modbus.port.ts';

// Counter LED boards: a numeric/text display above each counter, all on one RS-485 line,
// each board a Modbus slave. Shows the ticket a counter calls (and recalls), clears it when
// the ticket is finished, a no-show, transferred or cancelled, or the counter closes, and
// rewrites every board from each queue:snapshot (the server sends one on every reconnect,
// and a board may have lost power meanwhile). Only the latest value of a board is written;
// a board that does not answer is tried again later, never holding up the others.

const Board = Type.Object({
  /** the counter's number as staff know it ("quầy số 5"), or its id */
  counter: Type.Optional(Type.Integer({ minimum: 0 })),
  counterId: Type.Optional(Type.String({ minLength: 1 })),
  address: Type.Integer({ minimum: 1, maximum: 247, description: 'Modbus slave address' }),
}, { additionalProperties: false });

export const LedModbusConfig = Type.Object({
  type: Type.Literal('led-modbus'),
  /** the RS-485 adapter, e.g. /dev/ttyUSB0 (or /dev/serial/by-id/...) */
  path: Type.String({ minLength: 1 }),
  baudRate: Type.Optional(Type.Integer({ minimum: 1200, maximum: 115_200 })),
  parity: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('even'), Type.Literal('odd')])),
  stopBits: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2)])),
  startRegister: Type.Optional(Type.Integer({ minimum: 0, maximum: 65_535 })),
  registers: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 })),
  numericOnly: Type.Optional(Type.Boolean()),
  blankValue: Type.Optional(Type.Integer({ minimum: 0, maximum: 65_535 })),
  responseTimeoutMs: Type.Optional(Type.Integer({ minimum: 20, maximum: 10_000 })),
  retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
  /** how soon a board that did not answer is written again */
  retryAfterMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
  boards: Type.Array(Board, { minItems: 1 }),
}, { additionalProperties: false });
export type LedModbusConfig = Static<typeof LedModbusConfig>;

interface BoardState {
  address: number;
  counter: number | undefined;
  counterId: string | undefined;
  /** what it should show (null: blank) and for which ticket */
  code: string | null;
  ticketId: string | null;
  /** bumped on every change (and on a forced rewrite); written when it differs from `writtenVersion` */
  version: number;
  writtenVersion: number;
  failures: number;
}


export interface LedOptions {
  /** serialport binding (tests: @serialport/binding-mock) */
  binding?: SerialBinding;
}

export function parseLedConfig(config: Record<string, unknown>): LedModbusConfig {
  if (!Value.Check(LedModbusConfig, config)) {
    const problems = [...Value.Errors(LedModbusConfig, config)].filter((e) => e.keyword !== 'boolean').slice(0, 5)
      .map((e) => `${e.instancePath || '(entry)'}: ${e.keyword === 'additionalProperties' ? `unknown field(s) ${JSON.stringify((e.params as { additionalProperties?: string[] }).additionalProperties)}` : e.message}`);
    throw new PeripheralConfigError(`led-modbus: ${problems.join('; ')}`);
  }
  const parsed = config as LedModbusConfig;
  const addresses = new Set<number>();
  parsed.boards.forEach((b, i) => {
    if ((b.counter === undefined) === (b.counterId === undefined)) throw new PeripheralConfigError(`led-modbus: boards[${i}] needs exactly one of "counter" (number) or "counterId"`);
    if (addresses.has(b.address)) throw new PeripheralConfigError(`led-modbus: boards[${i}]: address ${b.address} is used twice`);
    addresses.add(b.address);
  });
  return parsed;
}

export class LedBoards implements Peripheral {
  readonly name: string;
  private readonly port: ModbusRtuPort;
  private readonly boards: BoardState[];
  private readonly layout: LedLayout;
  private readonly start_: number;
  private readonly retryAfterMs: number;
  /** counter number -> id, learnt from snapshots and calls */
  private readonly counterIds = new Map<number, string>();
  private unsubscribe: Array<() => void> = [];
  private pumping = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(config: LedModbusConfig, private readonly api: AgentDeviceApi, options: LedOptions = {}) {
    this.name = `led-modbus ${config.path}`;
    this.port = new ModbusRtuPort({
      path: config.path, baudRate: config.baudRate ?? 9600, parity: config.parity ?? 'none', stopBits: config.stopBits ?? 1,
      responseTimeoutMs: config.responseTimeoutMs ?? 300, retries: config.retries ?? 2, ...(options.binding ? { binding: options.binding } : {}),
    });
    this.layout = { numericOnly: config.numericOnly ?? false, registers: config.registers ?? 4, blankValue: config.blankValue ?? 0 };
    this.start_ = config.startRegister ?? 0;
    this.retryAfterMs = config.retryAfterMs ?? 5000;
    this.boards = config.boards.map((b) => ({ address: b.address, counter: b.counter, counterId: b.counterId, code: null, ticketId: null, version: 1, writtenVersion: 0, failures: 0 }));
  }

  async start(): Promise<void> {
    const on = this.api.on;
    this.unsubscribe = [
      on('queue:snapshot', (s) => this.onSnapshot(s)),
      on('ticket:called', (p) => this.onCalled(p)),
      on('ticket:updated', (p) => this.onTicket(p?.ticket)),
      on('counter:updated', (p) => this.onCounter(p?.counter)),
    ];
    this.api.log.info({ peripheral: this.name, boards: this.boards.length }, 'LED boards ready');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const off of this.unsubscribe) off();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.port.close();
  }

  /** What each board should show now (for tests and the log). */
  shown(): Array<{ address: number; code: string | null }> {
    return this.boards.map((b) => ({ address: b.address, code: b.code }));
  }

  // ---- events --------------------------------------------------------------------------

  private boardsOf(counterId: string | undefined, number?: number): BoardState[] {
    if (number !== undefined && counterId) this.counterIds.set(number, counterId);
    return this.boards.filter((b) => (b.counterId !== undefined ? b.counterId === counterId
      : (number !== undefined && b.counter === number) || (counterId !== undefined && this.counterIds.get(b.counter!) === counterId)));
  }

  private onSnapshot(snapshot: any): void {
    const counters: any[] = Array.isArray(snapshot?.counters) ? snapshot.counters : [];
    for (const c of counters) if (typeof c?.number === 'number' && typeof c?.counterId === 'string') this.counterIds.set(c.number, c.counterId);
    for (const board of this.boards) {
      const id = board.counterId ?? this.counterIds.get(board.counter!);
      const counter = counters.find((c) => c?.counterId === id);
      const ticket = counter?.ticket && isAtCounter(counter.ticket.status) ? counter.ticket : null;
      // rewrite all, changed or not: the board may have been off while we were away
      this.set(board, ticket ? String(ticket.code) : null, ticket ? String(ticket.id) : null, true);
    }
    this.pump();
  }

  private onCalled(payload: any): void {
    const ticket = payload?.ticket;
    const counter = payload?.counter;
    if (!ticket || typeof ticket.code !== 'string' || !counter) return;
    // a recall shows the same code: write it again, the board may flash or have lost it
    for (const board of this.boardsOf(counter.id, counter.number)) this.set(board, ticket.code, ticket.id, !!payload.recall);
    this.pump();
  }

  private onTicket(ticket: any): void {
    if (!ticket?.id || isAtCounter(ticket.status)) return;
    for (const board of this.boards) {
      if (board.ticketId === ticket.id) this.set(board, null, null);
    }
    this.pump();
  }

  private onCounter(counter: any): void {
    if (!counter?.id) return;
    const boards = this.boardsOf(counter.id, counter.number);
    if (counter.status !== 'closed') return;
    for (const board of boards) this.set(board, null, null);
    this.pump();
  }

  // ---- writing -------------------------------------------------------------------------

  private set(board: BoardState, code: string | null, ticketId: string | null, force = false): void {
    if (force || board.code !== code) board.version++;
    board.code = code;
    board.ticketId = ticketId;
  }

  /** Writes boards whose value changed, one frame at a time, latest value only. */
  private pump(): void {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    void (async () => {
      try {
        for (;;) {
          const board = this.boards.find((b) => b.writtenVersion !== b.version && b.failures === 0);
          if (!board || this.stopped) break;
          const { code, version } = board;
          try {
            await this.port.writeRegisters(board.address, this.start_, codeToRegisters(code, this.layout));
            board.writtenVersion = version;
          } catch (error) {
            board.failures++;
            this.api.log.warn({ peripheral: this.name, address: board.address, code, err: error }, 'LED board not updated; will try again');
          }
        }
      } finally {
        this.pumping = false;
      }
      if (this.boards.some((b) => b.failures > 0) && !this.retryTimer && !this.stopped) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          for (const b of this.boards) b.failures = 0;
          this.pump();
        }, this.retryAfterMs);
      }
    })();
  }
}

export function createLedPeripheral(config: Record<string, unknown>, api: AgentDeviceApi, options: LedOptions = {}): Peripheral {
  return new LedBoards(parseLedConfig(config), api, options);
}
