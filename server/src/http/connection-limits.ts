import { BlockList, isIP, type Server, type Socket } from 'node:net';

export interface ConnectionLimits {
  /** open connections from one address at most; 0: no cap */
  perAddress: number;
  /** open connections in all at most; 0: no cap */
  total: number;
  /** addresses the per-address cap does not apply to (a trusted reverse proxy carries everyone) */
  exempt?: (address: string) => boolean;
  /** told (at most every 10 s) that connections were refused, and how many since */
  onRefused?: (refused: number, why: 'per-address' | 'total') => void;
}

/**
 * Keeps one host (or a handful) from holding every connection the process can open: a
 * connection past either cap is closed as soon as it is accepted, so the file descriptors a
 * kiosk, a display or PostgreSQL needs are still there. Slow connections are cut by the
 * server's timeouts (app.ts); these caps bound how many can be open meanwhile.
 */
export function limitConnections(server: Server, limits: ConnectionLimits): void {
  if (limits.total > 0) server.maxConnections = limits.total;
  const refused = { 'per-address': 0, total: 0 };
  let told = 0;
  const tell = (why: 'per-address' | 'total') => {
    refused[why]++;
    if (!limits.onRefused || Date.now() - told < 10_000) return;
    told = Date.now();
    limits.onRefused(refused[why], why);
    refused[why] = 0;
  };
  server.on('drop', () => tell('total'));
  if (limits.perAddress <= 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    if (!address || limits.exempt?.(address)) return;
    const count = (open.get(address) ?? 0) + 1;
    if (count > limits.perAddress) {
      tell('per-address');
      return void socket.destroy();
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}

/**
 * The connections a trusted reverse proxy carries for everyone (QMS_TRUST_PROXY) are not one
 * client's: its addresses are exempt from the per-address cap. Trusting every hop or a number of
 * hops names no address, so then every connection is taken for the proxy's.
 */
export function trustedProxies(trust: boolean | number | string[]): ((address: string) => boolean) | undefined {
  if (trust === false) return undefined;
  if (!Array.isArray(trust)) return () => true;
  const list = new BlockList();
  for (const entry of trust) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return (address) => {
    const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
    return list.check(plain, isIP(plain) === 6 ? 'ipv6' : 'ipv4');
  };
}
