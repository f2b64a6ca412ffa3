import type { Kysely } from 'kysely';
import { Migrator, NO_MIGRATIONS, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely/migration';
import * as core from './migrations/2026-11-24T10-00-00_core.ts';
import * as socketIoAttachments from './migrations/2026-11-24T11-00-00_socket-io-attachments.ts';
import * as reportIndexes from './migrations/2026-11-24T12-00-00_report-indexes.ts';
import * as callNextFunction from './migrations/2026-11-24T13-00-00_call-next-function.ts';
import * as callNextSiteCheck from './migrations/2026-11-24T15-00-00_call-next-site-check.ts';
import * as issueKey from './migrations/2026-12-04T12-00-00_issue-key.ts';
import * as dayEnd from './migrations/2026-12-04T19-00-00_day-end.ts';
import * as servicePrefixUnique from './migrations/2026-12-04T20-00-00_service-prefix-unique.ts';
import * as staffPhoto from './migrations/2026-12-04T20-10-00_staff-photo.ts';
import * as ticketCounterFinishedIndex from './migrations/2026-12-04T20-20-00_ticket-counter-finished-index.ts';
import * as functionsFromFiles from './migrations/2026-12-05T07-00-00_functions-from-files.ts';
import * as notifications from './migrations/2026-12-05T16-00-00_notifications.ts';
import * as proceduresDossiers from './migrations/2026-12-05T19-00-00_procedures-dossiers.ts';
import * as auditLog from './migrations/2026-12-05T19-30-00_audit-log.ts';
import * as channelFailingOnce from './migrations/2026-12-05T20-00-00_channel-failing-once.ts';
import * as bookings from './migrations/2026-12-05T21-30-00_bookings.ts';
import * as issueFunction from './migrations/2026-12-06T04-00-00_issue-function.ts';
import * as callNextByServices from './migrations/2026-12-06T04-30-00_call-next-by-services.ts';
import * as reportFacts from './migrations/2026-12-06T06-00-00_report-facts.ts';
import * as moveFunction from './migrations/2026-12-06T19-00-00_move-function.ts';
import * as outboxSiteUnchecked from './migrations/2026-12-06T22-00-00_outbox-site-unchecked.ts';
import * as issueCapacity from './migrations/2026-12-06T22-30-00_issue-capacity.ts';
import * as recentCallsIndex from './migrations/2026-12-06T22-40-00_recent-calls-index.ts';
import * as outboxWanted from './migrations/2026-12-06T23-50-00_outbox-wanted.ts';
import * as capacityLastServed from './migrations/2026-12-07T00-10-00_capacity-last-served.ts';
import * as callNextPickByServices from './migrations/2026-12-07T00-20-00_call-next-pick-by-services.ts';
import * as waitingBookedIndex from './migrations/2026-12-07T00-30-00_waiting-booked-index.ts';
import * as liveCodeWithDay from './migrations/2026-12-07T00-40-00_live-code-with-day.ts';
import * as callNextComment from './migrations/2026-12-07T03-00-00_call-next-comment.ts';
import * as callNextOneFunction from './migrations/2026-12-07T04-00-00_call-next-one-function.ts';

// Listed explicitly (not read from the folder) so the set is the same under tsx, vitest and
// any bundler. Names are timestamps: order is the name order.
const migrations: Record<string, Migration> = {
  '2026-11-24T10-00-00_core': core,
  '2026-11-24T11-00-00_socket-io-attachments': socketIoAttachments,
  '2026-11-24T12-00-00_report-indexes': reportIndexes,
  '2026-11-24T13-00-00_call-next-function': callNextFunction,
  '2026-11-24T15-00-00_call-next-site-check': callNextSiteCheck,
  '2026-12-04T12-00-00_issue-key': issueKey,
  '2026-12-04T19-00-00_day-end': dayEnd,
  '2026-12-04T20-00-00_service-prefix-unique': servicePrefixUnique,
  '2026-12-04T20-10-00_staff-photo': staffPhoto,
  '2026-12-04T20-20-00_ticket-counter-finished-index': ticketCounterFinishedIndex,
  '2026-12-05T07-00-00_functions-from-files': functionsFromFiles,
  '2026-12-05T16-00-00_notifications': notifications,
  '2026-12-05T19-00-00_procedures-dossiers': proceduresDossiers,
  '2026-12-05T19-30-00_audit-log': auditLog,
  '2026-12-05T20-00-00_channel-failing-once': channelFailingOnce,
  '2026-12-05T21-30-00_bookings': bookings,
  '2026-12-06T04-00-00_issue-function': issueFunction,
  '2026-12-06T04-30-00_call-next-by-services': callNextByServices,
  '2026-12-06T06-00-00_report-facts': reportFacts,
  '2026-12-06T19-00-00_move-function': moveFunction,
  '2026-12-06T22-00-00_outbox-site-unchecked': outboxSiteUnchecked,
  '2026-12-06T22-30-00_issue-capacity': issueCapacity,
  '2026-12-06T22-40-00_recent-calls-index': recentCallsIndex,
  '2026-12-06T23-50-00_outbox-wanted': outboxWanted,
  '2026-12-07T00-10-00_capacity-last-served': capacityLastServed,
  '2026-12-07T00-20-00_call-next-pick-by-services': callNextPickByServices,
  '2026-12-07T00-30-00_waiting-booked-index': waitingBookedIndex,
  '2026-12-07T00-40-00_live-code-with-day': liveCodeWithDay,
  '2026-12-07T03-00-00_call-next-comment': callNextComment,
  '2026-12-07T04-00-00_call-next-one-function': callNextOneFunction,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Every migration this code knows, in the order they run. */
export const migrationNames: readonly string[] = Object.keys(migrations).sort();

/** kysely's migrator over this project's migrations (status, migrateTo). */
export function migrator(db: Kysely<any>): Migrator {
  return new Migrator({ db, provider });
}

export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  return checked(await migrator(db).migrateToLatest());
}

/** Up or down to exactly `name` (NO_MIGRATIONS: none at all). */
export async function migrateTo(db: Kysely<any>, name: string | typeof NO_MIGRATIONS): Promise<MigrationResultSet> {
  return checked(await migrator(db).migrateTo(name));
}

function checked(result: MigrationResultSet): MigrationResultSet {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${String(result.error)}`, { cause: result.error });
  }
  return result;
}
