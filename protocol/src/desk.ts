import type { Ticket } from './schemas.ts';

// Reads of the counter terminal and rating tablet (server/src/routes/counter-desk.routes.ts).

export interface TodayFigures {
  date: string;
  counterId: string;
  staff: { id: string; displayName: string; photoUrl?: string } | null;
  /** tickets this official finished today (status done) */
  served: number;
  noShow: number;
  /** mean of finishedAt − calledAt over those tickets (API.md's service time); null when none */
  serviceAvgSeconds: number | null;
  /** ratings given to the tickets served today */
  ratings: number;
  ratingAvg: number | null;
}

export type WaitingTicket = Ticket & { queuedAt: string; waitedSeconds: number };

export interface RatingRequest {
  ticketId: string;
  counterId: string;
  code: string;
  staff: { displayName: string; photoUrl?: string };
  finishedAt: string;
}
