import type { Kysely } from 'kysely';
import { createOrReplace } from '../functions/function.ts';
import { qmsCallNextBefore as qmsCallNext } from '../functions/history/qms_call_next.ts';

// call-next's pick reads the waiting tickets' index alone, whatever plan PostgreSQL caches for its
// parameters: it names no site (the counter's services are its site's), the day is a filter, and
// the function runs without bitmap scans (qms_call_next's comment).
export async function up(db: Kysely<any>): Promise<void> {
  await createOrReplace(db, qmsCallNext);
}

export async function down(): Promise<void> {
  // the body before is the file's previous version (git history): an older migration's down does not restore it either
}
