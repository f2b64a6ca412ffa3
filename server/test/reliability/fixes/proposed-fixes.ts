// NOT part of the server: a preload (`node --import`) with which the reliability suite checks
// that the fixes it proposes for two server bugs are enough (docs/reliability.md, "Bugs found").
// Each patch below stands in for a change to make in the server's own code.
import pg from 'pg';

// 1. db/src/connection.ts createPool(): pg-pool takes its error listener off a client while the
//    client is checked out. A checked-out client that is not running a query at the moment
//    PostgreSQL goes away (inside a Kysely transaction between two statements, or the socket.io
//    adapter's LISTEN client, checked out for ever) then emits 'error' with no listener and the
//    process dies. Fix: a permanent listener on every client, e.g.
//      pool.on('connect', (client) => client.on('error', () => {}));
//    the waiting query still fails, and pg-pool drops the broken client when it is released.
const connect = pg.Client.prototype.connect;
const guarded = new WeakSet<object>();
pg.Client.prototype.connect = function (this: pg.Client, ...args: unknown[]) {
  if (!guarded.has(this)) {
    guarded.add(this);
    this.on('error', () => {});
  }
  return (connect as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.connect;

// 2. server/src/http/errors.ts: the next statement on such a client fails with "Client has
//    encountered a connection error and is not queryable" (no code), which the error handler
//    does not recognise, so the request answers 500 instead of 503. Fix: add `not queryable` to
//    the connection-error pattern. Here: give that error the SQLSTATE of a lost connection.
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const result = (query as (...a: unknown[]) => unknown).apply(this, args);
  if (result && typeof (result as Promise<unknown>).then === 'function') {
    return (result as Promise<unknown>).catch((error: Error & { code?: string }) => {
      if (/not queryable/.test(error?.message ?? '') && !error.code) error.code = '08006';
      throw error;
    });
  }
  return result;
} as typeof pg.Client.prototype.query;

// 3. server/src/realtime/realtime.plugin.ts, preClose hook: `io.local.disconnectSockets(true)`
//    sends every screen a socket.io DISCONNECT packet, which clients take as "the server does
//    not want you" ("io server disconnect") and never reconnect: after a graceful restart every
//    display, kiosk and counter stays offline until someone reloads it. Fix: close the
//    connections underneath instead, so clients see "transport close" and reconnect:
//      app.addHook('preClose', async () => { io.engine.close(); });
//    Here: a server-side disconnect with close=true closes the connection without the packet.
//    (A revoked device that reconnects is refused by the auth middleware and stops there.)
import { Socket } from 'socket.io';

const disconnect = Socket.prototype.disconnect;
Socket.prototype.disconnect = function (this: Socket, close = false) {
  if (close && this.connected) {
    this.conn.close();
    return this;
  }
  return disconnect.call(this, close);
} as typeof Socket.prototype.disconnect;
