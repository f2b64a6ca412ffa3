import { readFileSync } from 'node:fs';

// Kernel TCP counters (machine-wide, so other users of the box count too): accept-queue
// overflows and SYN retransmissions tell a reconnect storm that waits on TCP from one that
// waits on the server.

const WANTED = ['ListenOverflows', 'ListenDrops', 'TCPSynRetrans'] as const;
export type TcpCounters = Record<(typeof WANTED)[number], number>;

export function tcpCounters(): TcpCounters {
  const result = Object.fromEntries(WANTED.map((k) => [k, Number.NaN])) as TcpCounters;
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const names = lines[0]!.split(/\s+/);
    const values = lines[1]!.split(/\s+/);
    for (const k of WANTED) {
      const i = names.indexOf(k);
      if (i > 0) result[k] = Number(values[i]);
    }
  } catch {
    // not Linux
  }
  return result;
}

export function tcpDelta(before: TcpCounters): string {
  const now = tcpCounters();
  return WANTED.map((k) => `${k} +${now[k] - before[k]}`).join(', ');
}
