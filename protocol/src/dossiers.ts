import { Type, type Static } from 'typebox';
import { Localized, Ticket } from './schemas.ts';

// Procedures (thủ tục hành chính, national codes like 1.001193) and dossiers (hồ sơ, with the
// code the dossier-processing system prints on its receipt) on a ticket: what a visit was about.
// The counter terminal reads and edits them; the dossier system and the provincial portal look a
// dossier up (docs/integration.md). We link to those systems and do not copy them.

const Instant = Type.String({ format: 'date-time', description: 'ISO-8601 with offset, millisecond precision' });
const Uuid = Type.String({ format: 'uuid' });
const strict = { additionalProperties: false } as const;

/** A national procedure code as the site lists it (1.001193, 2.000889...). */
export const ProcedureCode = Type.String({ minLength: 1, maxLength: 40, pattern: '^[0-9A-Za-z.]+$' });
/**
 * A dossier code (mã hồ sơ) as printed on the receipt, e.g. 000.00.12.H47-261205-0042: kept and
 * compared upper-case, so a scanner's or a keyboard's case does not make two dossiers.
 */
export const DossierCode = Type.String({ minLength: 3, maxLength: 40, pattern: '^[A-Za-z0-9._/-]+$' });
/** Receipts print dossier codes upper-case; a keyboard or a scanner may not. */
export const normaliseDossierCode = (code: string) => code.trim().toUpperCase();
export const DOSSIER_DIRECTIONS = ['received', 'returned'] as const;
export const DossierDirection = Type.Enum([...DOSSIER_DIRECTIONS], { description: 'received: the centre took the dossier in (submission); returned: the result went back to the citizen (collection)' });
export type DossierDirection = (typeof DOSSIER_DIRECTIONS)[number];

export const TicketProcedure = Type.Object({
  code: Type.String(),
  name: Localized,
  /** where it was set: found at the kiosk, or set by the official at the counter */
  source: Type.Enum(['kiosk', 'counter']),
  addedAt: Instant,
});
export type TicketProcedure = Static<typeof TicketProcedure>;

export const TicketDossier = Type.Object({
  id: Type.String(),
  dossierCode: Type.String(),
  direction: DossierDirection,
  recordedAt: Instant,
  recordedBy: Type.Union([Type.Object({ id: Type.String(), displayName: Type.String() }), Type.Null()]),
});
export type TicketDossier = Static<typeof TicketDossier>;

/** GET /tickets/:ticketId/visit: the ticket with what it was about. */
export const Visit = Type.Object({
  ticket: Ticket,
  procedures: Type.Array(TicketProcedure),
  dossiers: Type.Array(TicketDossier),
});
export type Visit = Static<typeof Visit>;

/** PUT /tickets/:ticketId/procedures: the visit's procedures, all of them (an empty list clears them). */
export const SetProceduresBody = Type.Object({
  codes: Type.Array(ProcedureCode, { maxItems: 20, uniqueItems: true }),
}, strict);
export type SetProceduresBody = Static<typeof SetProceduresBody>;

/** POST /tickets/:ticketId/dossiers */
export const AddDossierBody = Type.Object({ dossierCode: DossierCode, direction: DossierDirection }, strict);
export type AddDossierBody = Static<typeof AddDossierBody>;
export const DossierParams = Type.Object({ ticketId: Uuid, dossierId: Uuid }, strict);
export const DossierCodeParams = Type.Object({ siteId: Uuid, dossierCode: DossierCode }, strict);

// ---- the dossier lookup (GET /sites/:siteId/dossiers/:dossierCode) -----------------------

const Official = Type.Object({ id: Type.String(), displayName: Type.String() });

export const DossierVisit = Type.Object({
  ticketId: Type.String(),
  code: Type.String({ description: 'the ticket number, e.g. A012' }),
  date: Type.String({ description: 'the local date of the visit, yyyy-MM-dd' }),
  status: Type.String(),
  directions: Type.Array(DossierDirection, { description: 'what happened to this dossier during this visit' }),
  recordedAt: Instant,
  service: Type.Object({ id: Type.String(), code: Type.String(), name: Localized }),
  procedures: Type.Array(Type.Object({ code: Type.String(), name: Localized })),
  issuedAt: Instant,
  calledAt: Type.Union([Instant, Type.Null()]),
  finishedAt: Type.Union([Instant, Type.Null()]),
  waitSeconds: Type.Union([Type.Number(), Type.Null()], { description: 'issue (or transfer) to call, summed over the stints that were called' }),
  serviceSeconds: Type.Union([Type.Number(), Type.Null()], { description: 'the final call to finish, for a served ticket' }),
  counter: Type.Union([Type.Object({ number: Type.Integer(), name: Type.String() }), Type.Null()]),
  officials: Type.Array(Official, { description: 'every official who called, served or transferred it, in order' }),
  rating: Type.Union([Type.Object({
    score: Type.Integer(), label: Type.Union([Localized, Type.Null()]), reason: Type.Union([Type.String(), Type.Null()]),
    comment: Type.Union([Type.String(), Type.Null()]), createdAt: Instant, official: Type.Union([Official, Type.Null()]),
  }), Type.Null()]),
  criticisms: Type.Array(Type.Object({
    alertId: Type.String(), createdAt: Instant, comment: Type.Union([Type.String(), Type.Null()]),
    status: Type.Enum(['new', 'investigating', 'resolved']), resolutionNote: Type.Union([Type.String(), Type.Null()]),
    resolvedAt: Type.Union([Instant, Type.Null()]),
  })),
});
export type DossierVisit = Static<typeof DossierVisit>;

export const DossierLookup = Type.Object({
  dossierCode: Type.String(),
  siteId: Type.String(),
  visits: Type.Array(DossierVisit, { description: 'oldest first' }),
  resultReadyAt: Type.Union([Instant, Type.Null()], { description: 'when the dossier system said the result was ready (POST /sites/:siteId/dossier-results), while that record is kept' }),
});
export type DossierLookup = Static<typeof DossierLookup>;

/** What an integration key may do. */
export const INTEGRATION_SCOPES = ['dossiers:read', 'dossier-results:write', 'bookings:write'] as const;
export type IntegrationScope = (typeof INTEGRATION_SCOPES)[number];
export const IntegrationScopes = Type.Array(Type.Enum([...INTEGRATION_SCOPES]), { minItems: 1, uniqueItems: true });
