import { rooms } from '@qms/protocol';
import type { Realtime } from '../realtime/realtime.plugin.ts';
import type { AgentLink } from './ticket-printer.service.ts';

/**
 * Print jobs to a kiosk's site agent: a broadcast to its agent room with acknowledgements.
 * The callback form, not emitWithAck, because a timeout must still hand over the answers that
 * did arrive (socket.io answers at once, with none, when the room is empty on every process).
 */
export function agentLink(realtime: () => Realtime): AgentLink {
  return {
    send(deviceId, job, timeoutMs) {
      return new Promise((resolve) => {
        realtime().io.to(rooms.agent(deviceId)).timeout(timeoutMs)
          .emit('print:requested', job, (error: Error | null, answers: unknown[]) => resolve({ answers: answers ?? [], timedOut: !!error }));
      });
    },
  };
}
