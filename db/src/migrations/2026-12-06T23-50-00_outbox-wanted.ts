import type { Kysely } from 'kysely';
import { createOrReplace } from '../functions/function.ts';
import { qmsOutboxAlert, qmsOutboxRating, qmsOutboxTicketEvent, qmsOutboxWanted } from '../functions/qms_outbox.ts';
import { qmsOutboxDossier } from '../functions/qms_outbox_dossier.ts';

// The outbox's triggers write a fact only when someone at its site would hear of it
// (qms_outbox_wanted: a webhook subscribed to it, a citizen channel for a ticket's changes, a
// leader for an alert). A site with none wrote three facts a ticket that the relay then read,
// marked relayed and, a week later, deleted, for no message.
export async function up(db: Kysely<any>): Promise<void> {
  await createOrReplace(db, qmsOutboxWanted);
  for (const fn of [qmsOutboxTicketEvent, qmsOutboxRating, qmsOutboxAlert, qmsOutboxDossier]) await createOrReplace(db, fn);
}

export async function down(): Promise<void> {
  // the bodies before are the files' previous versions (git history): an older migration's down does not restore them either
}
