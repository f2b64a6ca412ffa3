import type { Kysely } from 'kysely';
import { createOrReplace } from '../functions/function.ts';
import { qmsIssue, qmsServiceCapacity, qmsServiceLoad } from '../functions/qms_issue.ts';

// An issue reads what its service can serve (qms_service_capacity: its counters in one scan, the
// recent service time) and no longer the service's whole load, whose count and oldest of the
// waiting tickets it never used: two scans of the service's waiting tickets fewer per issue.
export async function up(db: Kysely<any>): Promise<void> {
  await createOrReplace(db, qmsServiceCapacity);
  await createOrReplace(db, qmsServiceLoad);
  await createOrReplace(db, qmsIssue);
}

export async function down(): Promise<void> {
  // the bodies before are the files' previous versions (git history): an older migration's down does not restore them either
}
