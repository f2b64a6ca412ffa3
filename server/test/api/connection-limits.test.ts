import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, openFilesLimit } from '../../src/config.ts';
import { limitConnections, trustedProxies } from '../../src/http/connection-limits.ts';

// The connection caps on a real TCP server on 127.0.0.1, and the limits they are derived from.

const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function serve(limits: Parameters<typeof limitConnections>[1]): Promise<number> {
  const server = net.createServer(() => {});
  servers.push(server);
  limitConnections(server, limits);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

/** Opens a connection from `localAddress`; resolves whether it is still open after 300 ms. */
function stays(port: number, localAddress: string, keep: net.Socket[]): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    keep.push(socket);
    const timer = setTimeout(() => resolve(true), 300);
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

describe('connection caps', () => {
  it('closes a connection past the cap of its address, not those of other addresses, and frees the place on close', async () => {
    const refused: string[] = [];
    const port = await serve({ perAddress: 3, total: 0, onRefused: (_n, why) => refused.push(why) });
    const keep: net.Socket[] = [];
    const first = await Promise.all([1, 2, 3, 4].map(() => stays(port, '127.0.0.2', keep)));
    expect(first.filter(Boolean)).toHaveLength(3);
    expect(await stays(port, '127.0.0.3', keep)).toBe(true);
    expect(refused).toEqual(['per-address']);
    keep[0]!.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(await stays(port, '127.0.0.2', keep)).toBe(true);
    for (const s of keep) s.destroy();
  });

  it('exempts the addresses it is told to (a trusted reverse proxy)', async () => {
    const port = await serve({ perAddress: 1, total: 0, exempt: (a) => a === '127.0.0.4' });
    const keep: net.Socket[] = [];
    expect((await Promise.all([1, 2, 3].map(() => stays(port, '127.0.0.4', keep)))).every(Boolean)).toBe(true);
    for (const s of keep) s.destroy();
  });

  it('takes the trusted proxies of QMS_TRUST_PROXY for exempt addresses', () => {
    expect(trustedProxies(false)).toBeUndefined();
    expect(trustedProxies(true)!('203.0.113.1')).toBe(true);
    expect(trustedProxies(2)!('203.0.113.1')).toBe(true);
    const exempt = trustedProxies(['10.0.0.2', '192.168.0.0/16', 'fd00::/8'])!;
    expect(['10.0.0.2', '::ffff:10.0.0.2', '192.168.44.5', 'fd12::1'].map(exempt)).toEqual([true, true, true, true]);
    expect(['10.0.0.3', '192.169.0.1', 'fe80::1', '127.0.0.1'].map(exempt)).toEqual([false, false, false, false]);
  });

  it('closes connections past the total', async () => {
    const refused: string[] = [];
    const port = await serve({ perAddress: 0, total: 4, onRefused: (_n, why) => refused.push(why) });
    const keep: net.Socket[] = [];
    const open = await Promise.all(['127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8', '127.0.0.9', '127.0.0.10'].map((a) => stays(port, a, keep)));
    expect(open.filter(Boolean)).toHaveLength(4);
    expect(refused).toEqual(['total']);
    for (const s of keep) s.destroy();
  });
});

describe('limits from the environment', () => {
  it('reads the soft limit on open files, and keeps room for the server\'s own below it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qms-limits-'));
    const file = path.join(dir, 'limits');
    writeFileSync(file, 'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 524288               files     \n');
    expect(openFilesLimit(file)).toBe(1024);
    expect(openFilesLimit(path.join(dir, 'missing'))).toBeUndefined();
    expect(openFilesLimit()).toBeGreaterThan(0); // this process's own, on Linux
    const config = loadConfig({});
    expect(config.maxConnections).toBe(openFilesLimit()! - 128);
    expect(config.connectionsPerAddress).toBe(200);
    expect(config.headersTimeoutMs).toBe(10_000);
    expect(config.requestTimeoutMs).toBe(30_000);
  });

  it('refuses timeouts that would cut screens off or make no sense', () => {
    expect(() => loadConfig({ QMS_IDLE_TIMEOUT_MS: '5000' })).toThrow(/QMS_IDLE_TIMEOUT_MS/);
    expect(() => loadConfig({ QMS_HEADERS_TIMEOUT_MS: '40000' })).toThrow(/QMS_HEADERS_TIMEOUT_MS/);
    expect(() => loadConfig({ QMS_CONNECTIONS_PER_ADDRESS: '-1' })).toThrow(/QMS_CONNECTIONS_PER_ADDRESS/);
    expect(loadConfig({ QMS_MAX_CONNECTIONS: '0' }).maxConnections).toBe(0);
  });
});
