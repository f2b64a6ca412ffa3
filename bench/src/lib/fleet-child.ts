// A child process that holds socket.io clients for the bench (lib/sockets.ts Fleet), so that
// the clients whose messages are not timed (counters' and kiosks' sockets) do not share the
// event loop, and the garbage, of the process that timestamps the displays' messages. Real
// screens are separate devices; 1,100 of them parsing every event of their site in the timing
// process delayed its timestamps (GC pauses up to 45 ms) for the floor and the system alike,
// and more for the system, whose sites send more events per call.
//   IPC {op:'connect', url, tokens, rooms?} -> {ready}   (rooms: the floor's auth {room})
//   IPC {op:'close'} -> {}
import { Fleet } from './sockets.ts';

const fleets: Fleet[] = [];

process.on('message', async (m: { id: string; op: string; url?: string; tokens?: string[]; rooms?: string[] }) => {
  try {
    if (m.op === 'connect') {
      const rooms = m.rooms;
      const fleet = await Fleet.connect(m.url!, m.tokens!, { concurrency: 50, ...(rooms ? { auth: (i: number) => ({ room: rooms[i] }) } : {}) });
      fleets.push(fleet);
      process.send!({ id: m.id, ready: fleet.ready(), errors: fleet.errorCounts });
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
