// NOT part of the server: a preload (`node --import`) for the storm benchmark, standing in for a
// proposed change to server/src/main.ts: `app.listen({ port, host, backlog: 4096 })`.
// Node listens with a backlog of 511 by default; when thousands of screens reconnect at once the
// kernel's accept queue overflows, their SYNs are dropped and they wait for TCP's retransmission
// (1 s, 3 s, 7 s, 15 s...) with the server idle. (Linux caps it at net.core.somaxconn.)
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
  const first = args[0];
  if (first && typeof first === 'object' && !('backlog' in first) && ('port' in first)) {
    args[0] = { ...first, backlog: 4096 };
  }
  return (listen as (...a: unknown[]) => net.Server).apply(this, args);
} as typeof net.Server.prototype.listen;
