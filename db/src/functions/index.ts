import { qmsCallNext } from './qms_call_next.ts';
import { qmsOutboxAlert, qmsOutboxRating, qmsOutboxTicketEvent, qmsOutboxWanted } from './qms_outbox.ts';
import { qmsOutboxDossier } from './qms_outbox_dossier.ts';
import { ticketEventAppendOnly } from './ticket_event_append_only.ts';
import { auditLogAppendOnly } from './audit_log_append_only.ts';
import { qmsIssue, qmsServiceCapacity, qmsServiceLoad, qmsTicketAhead } from './qms_issue.ts';
import { qmsMove } from './qms_move.ts';
import { reportDayRatingChanged } from './report_day_rating_changed.ts';

export { createOrReplace, type DbFunction } from './function.ts';

/** Every function of the schema, as its current body (one file each in this folder). */
export const DB_FUNCTIONS = [qmsCallNext, ticketEventAppendOnly, qmsOutboxWanted, qmsOutboxTicketEvent, qmsOutboxRating, qmsOutboxAlert, qmsOutboxDossier, auditLogAppendOnly,
  qmsTicketAhead, qmsServiceCapacity, qmsServiceLoad, qmsIssue, reportDayRatingChanged, qmsMove];
