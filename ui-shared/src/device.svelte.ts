import { ApiError, createClient, type QmsClient, type QmsSocket } from '@qms/protocol/client';

// A screen paired as a device keeps its token in localStorage: paired once with the
// six-digit code (typed, or passed as ?pair=123456 in the URL), then it runs unattended.

const KEY = (screen: string) => `qms.${screen}.device`;

export interface StoredDevice {
  token: string;
  deviceId: string;
  siteId: string;
  kind: string;
  counterId: string | null;
  name: string;
}

export function storedDevice(screen: string): StoredDevice | null {
  try {
    const raw = localStorage.getItem(KEY(screen));
    return raw ? (JSON.parse(raw) as StoredDevice) : null;
  } catch {
    return null;
  }
}

export function forgetDevice(screen: string): void {
  localStorage.removeItem(KEY(screen));
}

/** Exchanges a pairing code for a device token and remembers it. */
export async function pairDevice(screen: string, code: string, client: QmsClient = createClient()): Promise<StoredDevice> {
  const { device, token } = await client.pair(code.trim());
  const stored: StoredDevice = { token, deviceId: device.id, siteId: device.siteId, kind: device.kind, counterId: device.counterId, name: device.name };
  localStorage.setItem(KEY(screen), JSON.stringify(stored));
  return stored;
}

/**
 * The device of this screen: the stored one, or one paired now from ?pair= in the URL (the
 * code is then removed from the address bar). Null when the screen still needs pairing.
 */
export async function deviceFromLocation(screen: string): Promise<StoredDevice | null> {
  const url = new URL(location.href);
  const code = url.searchParams.get('pair');
  if (code) {
    url.searchParams.delete('pair');
    history.replaceState(null, '', url.toString());
    try {
      return await pairDevice(screen, code);
    } catch (error) {
      // an already-used code with a stored device is fine: keep the stored one
      if (!(error instanceof ApiError)) throw error;
    }
  }
  return storedDevice(screen);
}

export type PairMessage = 'bad' | 'offline' | 'again' | 'wrong-kind' | null;

export interface PairingOptions {
  /** Called once the screen has its device (stored, from ?pair=, or typed on the keypad). */
  onPaired: (device: StoredDevice) => void;
  /** A device this screen can run as (a rating tablet needs a rating device of a counter). */
  accepts?: (device: StoredDevice) => boolean;
  /** After a network failure while pairing, try the same code again after this long; null: never. */
  retryMs?: number | null;
}

/**
 * How an unattended screen gets its device token, the same on the kiosk, the display and the
 * rating tablet: the stored device, else `?pair=` in the address, else the six digits typed
 * on its keypad. A network failure keeps the code and retries; a refused code clears it; a
 * revoked device comes back here with `unpair()`.
 */
export class DevicePairing {
  phase = $state<'starting' | 'pairing' | 'paired'>('starting');
  /** the digits typed so far */
  code = $state('');
  message = $state<PairMessage>(null);
  /** what the last attempt failed with (an ApiError, or the network's TypeError) */
  error = $state<unknown>(null);
  busy = $state(false);

  private readonly accepts: (device: StoredDevice) => boolean;
  private readonly retryMs: number | null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly screen: string, private readonly options: PairingOptions) {
    this.accepts = options.accepts ?? (() => true);
    this.retryMs = options.retryMs === undefined ? 5000 : options.retryMs;
  }

  async start(): Promise<void> {
    const pending = new URL(location.href).searchParams.get('pair');
    let device: StoredDevice | null;
    try {
      device = await deviceFromLocation(this.screen);
    } catch (error) {
      // the server could not be reached while pairing from the address: keep the code and retry
      device = storedDevice(this.screen);
      if (!device && pending) {
        this.code = pending.replace(/\D/g, '').slice(0, 6);
        this.phase = 'pairing';
        this.offline(error);
        return;
      }
    }
    if (device && !this.accepts(device)) {
      forgetDevice(this.screen);
      this.phase = 'pairing';
      this.message = 'wrong-kind';
      return;
    }
    if (!device) {
      this.message = pending ? 'bad' : null;
      this.phase = 'pairing';
      return;
    }
    this.paired(device);
  }

  type(digit: string): void {
    if (this.code.length < 6) this.code += digit;
    this.message = null;
    this.error = null;
  }

  erase(): void {
    this.code = this.code.slice(0, -1);
  }

  /** A keyboard or a TV remote types the code too: digits, Backspace, Enter. */
  key(event: KeyboardEvent): void {
    if (/^[0-9]$/.test(event.key)) this.type(event.key);
    else if (event.key === 'Backspace') this.erase();
    else if (event.key === 'Enter') void this.submit();
  }

  /** Exchanges the typed code (or `code`) for this screen's token. */
  async submit(code: string = this.code): Promise<void> {
    if (code.length !== 6 || this.busy || this.phase !== 'pairing') return;
    clearTimeout(this.retryTimer);
    this.code = code;
    this.busy = true;
    try {
      const device = await pairDevice(this.screen, code);
      this.code = '';
      if (!this.accepts(device)) {
        forgetDevice(this.screen);
        this.message = 'wrong-kind';
        return;
      }
      this.paired(device);
    } catch (error) {
      if (error instanceof ApiError) {
        this.error = error;
        this.message = 'bad';
        this.code = '';
      } else {
        this.offline(error);
      }
    } finally {
      this.busy = false;
    }
  }

  /** The device was revoked (or the database replaced): back to the keypad. */
  unpair(): void {
    forgetDevice(this.screen);
    this.code = '';
    this.phase = 'pairing';
    this.message = 'again';
  }

  stop(): void {
    clearTimeout(this.retryTimer);
  }

  private offline(error: unknown) {
    this.error = error;
    this.message = 'offline';
    if (this.retryMs !== null) this.retryTimer = setTimeout(() => void this.submit(), this.retryMs);
  }

  private paired(device: StoredDevice) {
    this.message = null;
    this.error = null;
    this.phase = 'paired';
    this.options.onPaired(device);
  }
}

/**
 * Follows a paired screen's socket: online on connect, offline on a drop or a failed retry. The
 * client's socket retries drops, server restarts and refused handshakes by itself; a revoked
 * device is told UNAUTHENTICATED on such a retry and `revoked` sends the screen back to pairing.
 */
export function followDeviceSocket(socket: QmsSocket, on: { online(up: boolean): void; revoked(): void }): void {
  socket.on('connect', () => on.online(true));
  socket.on('disconnect', () => on.online(false));
  socket.on('connect_error', (error) => (error.message === 'UNAUTHENTICATED' ? on.revoked() : on.online(false)));
}
