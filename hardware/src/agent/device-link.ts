import { io, type Socket } from 'socket.io-client';
import type { PrintJobResult } from '@qms/protocol';
import { createClient, type QmsClient } from '@qms/protocol/client';
import { AgentPrinter, type PrinterStateReport } from './agent-printer.ts';
import type { AgentDeviceConfig } from './config.ts';
import type { AgentLogger } from './log.ts';
import type { AgentDeviceApi, Peripheral } from './peripheral.ts';
import { createPeripheral } from './peripherals.ts';
import { hashCode, type StateStore } from './state.ts';

// One paired device of the site agent: pairs once (the token goes to the state file), learns
// who it is (GET /devices/me), keeps a socket to the server for ever (handshake
// `{token, agent: true}`, so print jobs for it come here), prints what the server sends,
// reports its printer's state, and hands events and HTTP to its peripherals.

type Device = AgentDeviceApi['device'];
type Listener = (payload: any) => void;

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export interface DeviceLinkOptions {
  server: string;
  config: AgentDeviceConfig;
  state: StateStore;
  log: AgentLogger;
  backoff?: Backoff;
  /** HTTP timeout; a request past it counts as a network failure */
  requestTimeoutMs?: number;
}

const DEFAULT_BACKOFF: Backoff = { initialMs: 1000, maxMs: 60_000 };

class Unrecoverable extends Error {}

export class DeviceLink {
  readonly name: string;
  device: Device | null = null;
  readonly api: AgentDeviceApi;
  private readonly log: AgentLogger;
  private readonly backoff: Backoff;
  private token: string | null = null;
  private socket: Socket | null = null;
  private printer: AgentPrinter | null = null;
  private peripherals: Peripheral[] = [];
  private readonly listeners = new Map<string, Set<Listener>>();
  private stopped = false;
  private timers = new Set<NodeJS.Timeout>();
  private socketFailures = 0;
  private lastReported: string | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  private connectedWaiters: Array<() => void> = [];
  private running: Promise<void> | null = null;
  connected = false;
  /** the HTTP side of the protocol client (the token is given per call: it changes when the device pairs) */
  private readonly http: QmsClient;

  constructor(private readonly options: DeviceLinkOptions) {
    this.http = createClient({ baseUrl: options.server });
    this.name = options.config.name;
    this.log = options.log.child({ device: this.name });
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    const link = this;
    this.api = {
      get device(): Device {
        if (!link.device) throw new Error(`device ${link.name} is not identified yet`);
        return link.device;
      },
      request: (method, path, body) => this.request(method, path, body),
      on: (event, listener) => {
        let set = this.listeners.get(event);
        if (!set) this.listeners.set(event, (set = new Set()));
        set.add(listener);
        return () => void set.delete(listener);
      },
      log: this.log,
    };
  }

  /** Starts in the background: pairing and connecting retry for ever until stop(). */
  start(): void {
    this.running ??= this.run().catch((error: Error) => this.log.error({ err: error }, 'device stopped working'));
  }

  /** Resolves once the socket is connected (again). */
  whenConnected(): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve) => this.connectedWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.socket?.removeAllListeners();
    this.socket?.close();
    this.socket = null;
    this.connected = false;
    await Promise.all(this.peripherals.map((p) => p.stop().catch((error: Error) => this.log.warn({ err: error, peripheral: p.name }, 'peripheral did not stop cleanly'))));
    await this.printer?.close();
  }

  // ---- HTTP ---------------------------------------------------------------------------

  /** /api/v1 with this device's token, through the protocol client; throws only when the server cannot be reached. */
  async request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, token = this.token): Promise<{ status: number; body: any }> {
    return this.http.raw(method, path, body, { token, signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000) });
  }

  // ---- start-up ------------------------------------------------------------------------

  private async run(): Promise<void> {
    await this.identify();
    if (this.stopped) return;
    const { config } = this.options;
    if (config.printer) {
      if (this.device!.kind !== 'kiosk') {
        this.log.error({ kind: this.device!.kind }, 'a printer is configured but this device is not a kiosk: only kiosks print tickets; printer ignored');
      } else {
        this.printer = new AgentPrinter(config.printer, this.log.child({ printer: config.printer.kind }));
        await this.printer.warmUp();
      }
    }
    (config.peripherals ?? []).forEach((entry, i) => {
      try {
        this.peripherals.push(createPeripheral(entry, this.api, `devices "${this.name}" peripherals[${i}]`));
      } catch (error) {
        this.log.error({ err: error }, 'peripheral not started');
      }
    });
    // before the socket, so the first queue:snapshot reaches them
    for (const p of this.peripherals) {
      await p.start().catch((error: Error) => this.log.error({ err: error, peripheral: p.name }, 'peripheral failed to start; the agent goes on without it'));
    }
    if (this.stopped) return;
    this.connect();
  }

  /** Pairs (once per pairing code) and asks the server who this device is, retrying until it works. */
  private async identify(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.ensureToken();
        const me = await this.request('GET', '/devices/me');
        if (me.status === 200 && me.body?.device?.id) {
          const d = me.body.device;
          this.device = { id: d.id, kind: d.kind, siteId: d.siteId, counterId: d.counterId ?? null };
          this.log.info({ deviceId: d.id, kind: d.kind, siteId: d.siteId }, 'device identified');
          return;
        }
        if (me.status === 401) {
          this.log.error({ status: 401 }, 'the server refuses this device\'s token (revoked?)');
          this.token = null;
          this.refused = true;
        } else {
          this.log.warn({ status: me.status }, 'GET /devices/me failed; retrying');
        }
      } catch (error) {
        if (error instanceof Unrecoverable) this.log.error({}, error.message);
        else this.log.warn({ err: error, server: this.options.server }, 'server not reachable; retrying');
      }
      await this.sleep(this.delay(attempt));
    }
  }

  /**
   * A token to use: a pairing code the state file has not seen yet is spent first (a manager
   * gave a new one, e.g. after a revocation); otherwise the saved token, unless the server
   * has refused it in this run.
   */
  private async ensureToken(): Promise<void> {
    if (this.token) return;
    const { config, state, server } = this.options;
    const saved = state.get(this.name);
    const usable = saved && saved.server === server ? saved : undefined;
    const code = config.pairingCode;
    if (code && (!usable || usable.pairedWith !== hashCode(code))) {
      const res = await this.request('POST', '/devices/pair', { code }, null);
      if (res.status === 200 && res.body?.token && res.body.device?.id) {
        this.token = res.body.token as string;
        this.refused = false;
        await state.set(this.name, { deviceId: res.body.device.id, token: this.token, server, pairedWith: hashCode(code), pairedAt: new Date().toISOString() });
        this.log.info({ deviceId: res.body.device.id, kind: res.body.device.kind }, 'paired; token saved in the state file');
        return;
      }
      if (res.status !== 400 && res.status !== 401) throw new Error(`pairing failed with HTTP ${res.status}`);
      if (!usable || this.refused) {
        throw new Unrecoverable(`pairing code of device "${this.name}" refused (wrong, expired or already used): ask a manager for a new one`);
      }
      // a stale code left in the config must not stop a device that is paired already
      this.log.warn({ status: res.status }, 'the pairingCode in the config was refused; using the saved token');
    }
    if (usable && !this.refused) {
      this.token = usable.token;
      return;
    }
    throw new Unrecoverable(usable
      ? `the server refused the saved token of device "${this.name}" (revoked?): ask a manager for a new pairing code and put it in the config as "pairingCode", then restart the agent`
      : `device "${this.name}" is not paired yet and has no "pairingCode" in the config`);
  }

  private refused = false;

  // ---- socket --------------------------------------------------------------------------

  private connect(): void {
    const socket = io(this.options.server, {
      auth: (cb) => cb({ token: this.token, agent: true }),
      transports: ['websocket'],
      reconnectionDelay: this.backoff.initialMs,
      reconnectionDelayMax: Math.min(this.backoff.maxMs, 30_000),
      randomizationFactor: 0.5,
    });
    this.socket = socket;
    socket.on('connect', () => {
      this.socketFailures = 0;
      this.connected = true;
      this.log.info({ server: this.options.server }, 'connected');
      for (const resolve of this.connectedWaiters.splice(0)) resolve();
      void this.reportPrinter(true);
      this.startStatusPolling();
    });
    socket.on('disconnect', (reason) => {
      this.connected = false;
      this.log.warn({ reason }, 'disconnected');
      // the server closed it (a revocation, or a restart's DISCONNECT): socket.io leaves that to us
      if (reason === 'io server disconnect') this.retrySocket();
    });
    socket.on('connect_error', (error) => {
      this.connected = false;
      this.socketFailures++;
      if (error.message === 'UNAUTHENTICATED') {
        this.log.error({}, 'the server refused this device\'s token (revoked?); waiting for a new pairingCode in the config');
        this.refused = true;
        this.token = null;
        socket.close();
        this.socket = null;
        void this.reidentify();
        return;
      }
      // a handshake its middleware refused (database starting) is not retried by socket.io
      if (!socket.active) this.retrySocket();
      else if (this.socketFailures === 1 || this.socketFailures % 10 === 0) this.log.warn({ err: error, failures: this.socketFailures }, 'cannot reach the server; retrying');
    });
    socket.onAny((event: string, ...args: unknown[]) => this.dispatch(event, args));
  }

  private async reidentify(): Promise<void> {
    this.device = this.device ?? null;
    await this.identify();
    if (!this.stopped) this.connect();
  }

  private retrySocket(): void {
    const delay = this.delay(this.socketFailures);
    this.timer(() => {
      if (!this.stopped && this.socket && !this.socket.connected && !this.socket.active) this.socket.connect();
    }, delay);
  }

  private dispatch(event: string, args: unknown[]): void {
    if (event === 'print:requested') {
      const ack = args.at(-1);
      const answer = (result: PrintJobResult) => (typeof ack === 'function' ? ack(result) : undefined);
      if (!this.printer) {
        answer({ status: 'failed', reason: 'offline', message: `the site agent has no printer for device "${this.name}"` });
        return;
      }
      void this.printer.print(args[0]).then((result) => {
        answer(result);
        this.noteState(result.status === 'sent' ? (result.paperLow ? 'paper_low' : 'ready') : result.reason === 'paper_out' ? 'paper_out' : result.reason === 'offline' ? 'offline' : 'error');
      });
      return;
    }
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(args[0]);
      } catch (error) {
        this.log.error({ err: error, event }, 'a peripheral failed handling an event');
      }
    }
  }

  // ---- printer state -------------------------------------------------------------------

  private startStatusPolling(): void {
    if (!this.printer || this.statusTimer) return;
    const every = (this.options.config.statusIntervalSeconds ?? 30) * 1000;
    this.statusTimer = setInterval(() => void this.reportPrinter(false), every);
  }

  /** A job's outcome tells the state too: the next poll then only reports a real change. */
  private noteState(state: string): void {
    this.lastReported = state;
  }

  /** Reads the printer and tells the server when its state changed (always on connect, with `claim`). */
  private async reportPrinter(onConnect: boolean): Promise<void> {
    if (!this.printer || !this.connected) return;
    let report: PrinterStateReport;
    try {
      report = await this.printer.status();
    } catch (error) {
      this.log.warn({ err: error }, 'printer status not read');
      return;
    }
    if (!onConnect && report.state === this.lastReported) return;
    if (report.state !== this.lastReported) this.log[report.state === 'ready' ? 'info' : 'warn']({ state: report.state, message: report.message }, 'printer state');
    const claim = onConnect && (this.options.config.printer?.claim ?? true);
    try {
      const res = await this.request('POST', '/devices/me/printer/status', {
        state: report.state, printer: report.printer, ...(report.message ? { message: report.message } : {}), ...(claim ? { claim: true } : {}),
      });
      if (res.status !== 200) {
        this.log.warn({ status: res.status, body: res.body }, 'printer state not accepted by the server');
        return;
      }
      this.lastReported = report.state;
      if (onConnect && !res.body?.driving) {
        this.log.warn({ serverPrinter: res.body?.printer ?? null },
          'the server does not send this kiosk\'s tickets here: a manager sets the kiosk\'s printer to "site agent" ({kind:"agent"})');
      }
    } catch (error) {
      this.log.warn({ err: error }, 'printer state not sent');
    }
  }

  // ---- timing --------------------------------------------------------------------------

  private delay(attempt: number): number {
    const base = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** Math.min(attempt, 20));
    return Math.round(base * (0.5 + Math.random() * 0.5));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.timer(resolve, ms));
  }

  private timer(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
}
