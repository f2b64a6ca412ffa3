import type { Kysely } from 'kysely';
import { createOrReplace } from '../functions/function.ts';
import { qmsCallNextBefore as qmsCallNext } from '../functions/history/qms_call_next.ts';

// call-next picks among the waiting tickets of the counter's services, read by service (and the
// counter's site), instead of joining counter_service: with statistics that said the live
// tickets were few, the join's plan scanned every live ticket of every site on each call.
export async function up(db: Kysely<any>): Promise<void> {
  await createOrReplace(db, qmsCallNext);
}

export async function down(): Promise<void> {
  // the body before is the file's previous version (git history): an older migration's down does not restore it either
}
