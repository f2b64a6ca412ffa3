import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { networkInterfaces } from 'node:os';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import type { Db } from '@qms/db';

// Where the server may send a kiosk's tickets. A manager types any host and port, and the
// server connects there itself: without limits that is a way into whatever listens on this
// machine (its own HTTP port, its PostgreSQL) and a port scanner of the LAN. A printer is
// another machine on the centre's network, so this machine's addresses, loopback, link-local,
// multicast and broadcast addresses, and this server's own ports are refused: when the printer
// is saved, and again at every connection for the address the name resolves to then (a name
// that pointed at a printer when saved may point at 127.0.0.1 later: DNS rebinding).

export type Lookup = (host: string) => Promise<string[]>;

export interface PrinterAddressOptions {
  /** ports of this server and of its database, never a printer's (asked at each check) */
  ownPorts?: () => Promise<number[]>;
  /** tests only: their pretend printers listen on 127.0.0.1 */
  allowLoopback?: boolean;
  /** host name -> addresses; the system resolver by default */
  lookup?: Lookup;
}

const RANGES: [string, number, 'ipv4' | 'ipv6', Kind][] = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['ff00::', 8, 'ipv6', 'multicast'],
  // reserved, and 255.255.255.255
  ['240.0.0.0', 4, 'ipv4', 'broadcast'],
];
type Kind = 'unspecified' | 'loopback' | 'link-local' | 'multicast' | 'broadcast';

const lists = new Map<Kind, BlockList>();
for (const [network, prefix, family, kind] of RANGES) {
  const list = lists.get(kind) ?? new BlockList();
  list.addSubnet(network, prefix, family);
  lists.set(kind, list);
}

const WHY: Record<Kind | 'this-server', string> = {
  unspecified: 'is not the address of a machine',
  loopback: 'is this server itself (loopback), not a printer',
  'link-local': 'is a link-local address: give the printer a fixed address on the centre\'s network',
  multicast: 'is a multicast address, not one printer',
  broadcast: 'is a broadcast or reserved address, not one printer',
  'this-server': 'is an address of this server, not a printer',
};

const systemLookup: Lookup = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** Bare address of a host as typed ("[fe80::1]" -> "fe80::1"). */
export const bare = (host: string) => (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);

export class PrinterAddresses {
  private readonly ownPorts: () => Promise<number[]>;
  private readonly allowLoopback: boolean;
  private readonly resolver: Lookup;

  constructor(options: PrinterAddressOptions = {}) {
    this.ownPorts = options.ownPorts ?? (async () => []);
    this.allowLoopback = options.allowLoopback ?? false;
    this.resolver = options.lookup ?? systemLookup;
  }

  /**
   * Why a printer cannot be at host:port, as a sentence, or null: the port, and the host as
   * typed (an address, a name of this machine, or a number the resolver would read as an
   * address). Names are not looked up here: the check that counts is at every connection.
   */
  async refusal(host: string, port: number): Promise<string | null> {
    const own = await this.ownPorts().catch((): number[] => []);
    if (own.includes(port)) return `port ${port} is this server's own (HTTP or database), not a printer's`;
    const name = bare(host);
    if (isIP(name)) return this.addressRefusal(name, host);
    if (!this.allowLoopback && /^localhost$|\.localhost$/i.test(name)) return `${host} ${WHY.loopback}`;
    // "2130706433", "127.1" or "0x7f.1" are 127.0.0.1 to the resolver; no real name is all numbers
    if (/^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+))*$/i.test(name)) return `${host} is not written as an address (four numbers from 0 to 255, like 192.168.1.50)`;
    return null;
  }

  /**
   * The resolver of a printer's connections (net.connect's `lookup`): each answer is checked,
   * and the connection goes to the address that was checked, so a name that pointed at a
   * printer when it was saved and points at 127.0.0.1 now (DNS rebinding) reaches nothing.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const fail = (message: string) => callback(Object.assign(new Error(message), { code: 'EPRINTERADDRESS' }), '', 0);
    this.resolver(hostname).then((addresses) => {
      if (!addresses.length) return fail(`${hostname} has no address`);
      // every answer counts: a resolver may mix a printer's address with 127.0.0.1
      for (const address of addresses) {
        const why = this.addressRefusal(address, `${hostname} (${address})`);
        if (why) return fail(why);
      }
      const found = addresses.map((address) => ({ address, family: isIP(address) }));
      if (options.all) callback(null, found);
      else callback(null, found[0]!.address, found[0]!.family);
    }, (error: Error) => fail(`cannot resolve ${hostname}: ${error.message}`));
  };

  private addressRefusal(address: string, shown: string): string | null {
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    for (const [kind, list] of lists) {
      if (kind === 'loopback' && this.allowLoopback) continue;
      if (list.check(address, family)) return `${shown} ${WHY[kind]}`;
    }
    if (thisServer(this.allowLoopback).check(address, family)) return `${shown} ${WHY['this-server']}`;
    return null;
  }
}

/** This machine's own addresses and the broadcast address of each of its IPv4 networks, now. */
function thisServer(allowLoopback: boolean): BlockList {
  const list = new BlockList();
  for (const address of Object.values(networkInterfaces()).flat()) {
    if (!address || (address.internal && allowLoopback)) continue;
    if (address.family === 'IPv4') {
      list.addAddress(address.address, 'ipv4');
      const ip = toNumber(address.address);
      const mask = toNumber(address.netmask);
      if (mask !== 0xffffffff) list.addAddress(fromNumber((ip | ~mask) >>> 0), 'ipv4');
    } else {
      list.addAddress(address.address.replace(/%.*$/, ''), 'ipv6');
    }
  }
  return list;
}

const toNumber = (ipv4: string) => ipv4.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
const fromNumber = (n: number) => [24, 16, 8, 0].map((shift) => (n >>> shift) & 0xff).join('.');

/**
 * The ports of this app: the one it listens on (or will), and the one its PostgreSQL serves
 * (asked of the server itself, so an embedded cluster on a random port is known too).
 */
export function appPorts(app: FastifyInstance, db: Db): () => Promise<number[]> {
  let databasePort: number | null | undefined;
  return async () => {
    if (databasePort === undefined) {
      // null over a Unix socket: then no TCP port to protect
      const row = await sql<{ port: number | null }>`SELECT inet_server_port() AS port`.execute(db).then((r) => r.rows[0], () => undefined);
      if (row) databasePort = row.port;
    }
    const listening = app.server.address();
    return [app.config.port, typeof listening === 'object' && listening ? listening.port : 0, databasePort ?? 0].filter((p) => p > 0);
  };
}
