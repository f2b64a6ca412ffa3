// A child process that holds socket.io clients for the bench (lib/sockets.ts Fleet), so that
// the clients whose messages are not timed (counters' and kiosks' sockets) do not share the
// event loop, and the garbage, of the process that timestamps the displays' messages. Real
// screens are separate devices; 1,100 of them parsing every event of their site in the timing
// process delayed its timestamps (GC pauses up to 45 ms) for the floor and the system alike,
// and more for the system, whose sites send more events per call.
//   IPC {op:'connect', url, tokens, rooms?, auths?} -> {ready}   (rooms: the floor's auth {room};
//       auths: extra handshake fields per token, e.g. {agent: true} for a site agent)
//   IPC {op:'mark'} -> {}   remembers every client's snapshot count (before a restart)
//   IPC {op:'fresh'} -> {fresh, size, lastAt, errorsLeft}   clients connected with a snapshot newer
//       than the mark and no error; lastAt: epoch ms of the latest such snapshot
//   IPC {op:'disconnects'} -> {total, reasons}   disconnects seen by every client since it connected
//   IPC {op:'bytes'} -> {bytes: number[][]}   bytes each client received, by fleet (connect order)
//   IPC {op:'close'} -> {}
import { Fleet } from './sockets.ts';
import { now } from './util.ts';

const fleets: Fleet[] = [];
let marks: number[][] = [];
const clients = () => fleets.flatMap((f) => f.clients);
/** performance.now() of this process → epoch ms, to compare with the parent's clock */
const epoch = (t: number) => performance.timeOrigin + t;

interface Message { id: string; op: string; url?: string; tokens?: string[]; rooms?: string[]; auths?: Record<string, unknown>[] }

process.on('message', async (m: Message) => {
  try {
    if (m.op === 'connect') {
      const { rooms, auths } = m;
      const auth = rooms || auths ? (i: number) => ({ ...(rooms ? { room: rooms[i] } : {}), ...auths?.[i] }) : undefined;
      const fleet = await Fleet.connect(m.url!, m.tokens!, { concurrency: 50, ...(auth ? { auth } : {}) });
      fleets.push(fleet);
      process.send!({ id: m.id, ready: fleet.ready(), errors: fleet.errorCounts });
    } else if (m.op === 'mark') {
      marks = fleets.map((f) => f.clients.map((c) => c.snapshots));
      process.send!({ id: m.id });
    } else if (m.op === 'fresh') {
      let fresh = 0;
      let lastAt = 0;
      fleets.forEach((f, i) => f.clients.forEach((c, j) => {
        if (c.snapshots > (marks[i]?.[j] ?? 0)) lastAt = Math.max(lastAt, epoch(c.lastSnapshotAt));
        if (c.socket.connected && c.snapshots > (marks[i]?.[j] ?? 0) && !c.lastError) fresh++;
      }));
      const errorsLeft = clients().filter((c) => !c.socket.connected || c.lastError).length;
      process.send!({ id: m.id, fresh, size: clients().length, lastAt, errorsLeft, at: epoch(now()) });
    } else if (m.op === 'disconnects') {
      const reasons: Record<string, number> = {};
      for (const c of clients()) for (const r of c.disconnects) reasons[r] = (reasons[r] ?? 0) + 1;
      process.send!({ id: m.id, total: Object.values(reasons).reduce((a, b) => a + b, 0), reasons });
    } else if (m.op === 'bytes') {
      process.send!({ id: m.id, bytes: fleets.map((f) => f.clients.map((c) => c.bytes)) });
    } else if (m.op === 'close') {
      for (const fleet of fleets.splice(0)) await fleet.close();
      process.send!({ id: m.id });
    } else {
      process.send!({ id: m.id, error: `unknown op ${m.op}` });
    }
  } catch (error) {
    process.send!({ id: m.id, error: String(error) });
  }
});
process.on('disconnect', () => process.exit(0));
