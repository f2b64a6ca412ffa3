// The order in which call-next takes a service's waiting tickets, replayed in TypeScript: the
// ORDER BY of qms_call_next (db/src/functions/qms_call_next.ts) applied pick after pick, with
// the two streaks it keeps (normal tickets in a row against the priority ratio, booked tickets in
// a row against the site's bookedInRow). The position of a ticket is its index in this order.
// queue.repository.ts counts positions in SQL when no booked ticket waits in the service (the
// streak of booked tickets then changes nothing) and replays the order here when one does.
// server/test/queue/call-order.property.test.ts holds this replay and the database's picks together.

export interface Waiting {
  id: string;
  priorityRank: number | null;
  bookingKind: 'slot' | 'remote' | null;
  queuedAt: Date;
  issuedAt: Date;
  number: number;
}

export interface StreakState {
  /** the site's priority ratio: normal tickets a counter takes before a priority one; null: priority always first */
  priorityRatio: number | null;
  /** normal tickets called in a row (the counter nearest its priority turn); null: none called yet */
  normalStreak: number | null;
  /** booked tickets a counter may call in a row while a walk-in waits */
  bookedInRow: number;
  bookedStreak: number;
}

function compare(a: Waiting, b: Waiting, priorityFirst: boolean, walkInFirst: boolean): number {
  // false sorts before true, as in PostgreSQL
  const cls = (t: Waiting) => (priorityFirst ? t.priorityRank === null : t.priorityRank !== null);
  if (cls(a) !== cls(b)) return cls(a) ? 1 : -1;
  if (walkInFirst) {
    const booked = (t: Waiting) => t.bookingKind === 'slot';
    if (booked(a) !== booked(b)) return booked(a) ? 1 : -1;
  }
  // priority_rank ASC NULLS LAST
  if (a.priorityRank !== b.priorityRank) {
    if (a.priorityRank === null) return 1;
    if (b.priorityRank === null) return -1;
    return a.priorityRank - b.priorityRank;
  }
  return a.queuedAt.getTime() - b.queuedAt.getTime() || a.issuedAt.getTime() - b.issuedAt.getTime() || a.number - b.number
    || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The tickets in the order call-next would take them, from the given streaks (up to `until`, if given). */
export function callOrder(tickets: readonly Waiting[], state: StreakState, until?: string): Waiting[] {
  const left = [...tickets];
  const order: Waiting[] = [];
  let { normalStreak, bookedStreak } = state;
  const ratio = state.priorityRatio;
  while (left.length) {
    const priorityFirst = !(ratio !== null && normalStreak !== null && normalStreak < ratio);
    const walkInFirst = bookedStreak >= state.bookedInRow;
    let best = 0;
    for (let i = 1; i < left.length; i++) if (compare(left[i]!, left[best]!, priorityFirst, walkInFirst) < 0) best = i;
    const [picked] = left.splice(best, 1);
    order.push(picked!);
    if (picked!.id === until) break;
    normalStreak = picked!.priorityRank === null ? (normalStreak ?? 0) + 1 : 0;
    bookedStreak = picked!.bookingKind === 'slot' ? bookedStreak + 1 : 0;
  }
  return order;
}

/** How many call-next takes before `id`. */
export function aheadInOrder(tickets: readonly Waiting[], id: string, state: StreakState): number {
  const index = callOrder(tickets, state, id).findIndex((t) => t.id === id);
  return index < 0 ? 0 : index;
}
