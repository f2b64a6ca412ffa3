import type { Kysely } from 'kysely';
import { createOrReplace } from '../functions/function.ts';
import { qmsCallNextBefore as qmsCallNext } from '../functions/history/qms_call_next.ts';

// qms_call_next's body named an index dropped since (ticket_live_day_idx) in a comment: the body
// again, so a database migrated before reads what the file says. No rule changes.
export async function up(db: Kysely<any>): Promise<void> {
  await createOrReplace(db, qmsCallNext);
}

export async function down(): Promise<void> {
  // the body before differs in a comment only
}
