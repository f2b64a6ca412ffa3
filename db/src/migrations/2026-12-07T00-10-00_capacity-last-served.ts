import type { Kysely } from 'kysely';
import { createOrReplace } from '../functions/function.ts';
import { qmsServiceCapacity } from '../functions/qms_issue.ts';

// A service's recent service time reads its last 20 served tickets by one bound and keeps those of
// the last two weeks, so that a plan cached for the parameters walks the index from the newest
// instead of reading every ticket the service served today (qms_service_capacity's comment).
export async function up(db: Kysely<any>): Promise<void> {
  await createOrReplace(db, qmsServiceCapacity);
}

export async function down(): Promise<void> {
  // the body before is the file's previous version (git history): an older migration's down does not restore it either
}
