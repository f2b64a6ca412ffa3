import { ApiError, createClient, type QmsClient } from '@qms/protocol/client';

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
