import { execFileSync } from 'node:child_process';

// Separate machines simulated on this one: a network namespace per server process
// (qmsbench-1, qmsbench-2...), each joined to the root namespace by a veth pair with private
// addresses (10.77.<i>.1 on the root side, 10.77.<i>.2 inside), optionally with netem delay on
// both ends (a LAN's round trip). Nothing is routed beyond these links: no traffic leaves the
// machine. Needs root (CAP_NET_ADMIN) and `ip`; `tc` for the delay.

export const NETNS_PREFIX = 'qmsbench-';

export interface NetnsLink {
  name: string;
  /** the root namespace's end: PostgreSQL listens here too, the load generator reaches the server through it */
  hostAddress: string;
  /** the server's address inside its namespace */
  nsAddress: string;
  /** wraps a command so that it runs inside the namespace */
  exec: string[];
}

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** Creates `count` namespaces with their veth links (anything left by an earlier run is removed first). */
export function createNamespaces(count: number, delayMs = 0): NetnsLink[] {
  cleanupNamespaces();
  const links: NetnsLink[] = [];
  try {
    for (let i = 1; i <= count; i++) {
      const name = `${NETNS_PREFIX}${i}`;
      const host = `qmsb${i}h`;
      const inner = `qmsb${i}n`;
      run('ip', ['netns', 'add', name]);
      run('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', inner]);
      run('ip', ['link', 'set', inner, 'netns', name]);
      run('ip', ['addr', 'add', `10.77.${i}.1/24`, 'dev', host]);
      run('ip', ['link', 'set', host, 'up']);
      run('ip', ['netns', 'exec', name, 'ip', 'addr', 'add', `10.77.${i}.2/24`, 'dev', inner]);
      run('ip', ['netns', 'exec', name, 'ip', 'link', 'set', inner, 'up']);
      run('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
      if (delayMs > 0) {
        run('tc', ['qdisc', 'add', 'dev', host, 'root', 'netem', 'delay', `${delayMs}ms`]);
        run('ip', ['netns', 'exec', name, 'tc', 'qdisc', 'add', 'dev', inner, 'root', 'netem', 'delay', `${delayMs}ms`]);
      }
      links.push({ name, hostAddress: `10.77.${i}.1`, nsAddress: `10.77.${i}.2`, exec: ['ip', 'netns', 'exec', name] });
    }
  } catch (error) {
    cleanupNamespaces();
    const e = error as { stderr?: Buffer; message: string };
    throw new Error(`network namespaces not created: ${e.stderr?.toString().trim() || e.message}`);
  }
  return links;
}

/** Deletes every qmsbench- namespace and qmsb veth (deleting one end of a veth deletes both); returns what was removed. */
export function cleanupNamespaces(): string[] {
  const removed: string[] = [];
  try {
    for (const line of run('ip', ['netns', 'list']).split('\n')) {
      const name = line.split(' ')[0];
      if (name?.startsWith(NETNS_PREFIX)) {
        try {
          run('ip', ['netns', 'del', name]);
          removed.push(name);
        } catch {
          // already gone
        }
      }
    }
    for (const line of run('ip', ['-o', 'link', 'show']).split('\n')) {
      const dev = /^\d+: (qmsb\d+[hn])[@:]/.exec(line)?.[1];
      if (dev) {
        try {
          run('ip', ['link', 'del', dev]);
          removed.push(dev);
        } catch {
          // already gone with its peer
        }
      }
    }
  } catch {
    // no `ip`: nothing was created either
  }
  return removed;
}

/** What is left: namespaces and links of ours (should be nothing after cleanup). */
export function leftovers(): string[] {
  try {
    const ns = run('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(NETNS_PREFIX));
    const links = run('ip', ['-o', 'link', 'show']).split('\n').map((l) => /^\d+: (qmsb\d+[hn])[@:]/.exec(l)?.[1]).filter((x): x is string => !!x);
    return [...ns, ...links];
  } catch {
    return [];
  }
}
