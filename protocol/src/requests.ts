import { Type, type Static } from 'typebox';
import { DeviceKind, Ticket } from './schemas.ts';

// Request schemas of the HTTP API (API.md), and the replies not in schemas.ts. The server
// validates with them and the screens and the site agent send what they describe. Every
// object refuses unknown fields.
const strict = { additionalProperties: false } as const;
export const Id = Type.String({ format: 'uuid' });
export const SiteParams = Type.Object({ siteId: Id }, strict);
export const TicketParams = Type.Object({ ticketId: Id }, strict);
export const CounterParams = Type.Object({ counterId: Id }, strict);
export const DeviceParams = Type.Object({ deviceId: Id }, strict);

const Name = Type.String({ minLength: 1, maxLength: 200 });
const Code = Type.String({ minLength: 1, maxLength: 40, pattern: '^[A-Za-z0-9_.-]+$' });
const Time = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' });
export const OpeningHoursBody = Type.Record(
  Type.String({ pattern: '^(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?$' }),
  Type.Array(Type.Tuple([Time, Time]), { maxItems: 6 }),
  // a key that is not a weekday range is refused here, not left to the route
  { additionalProperties: false },
);

export const LoginBody = Type.Object({ username: Type.String({ minLength: 1, maxLength: 100 }), password: Type.String({ minLength: 1, maxLength: 200 }) }, strict);
export const CreateSiteBody = Type.Object({
  code: Code, name: Name, timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  level: Type.Optional(Type.Enum(['province', 'commune'])), openingHours: Type.Optional(OpeningHoursBody),
}, strict);
export const CreateServiceBody = Type.Object({
  code: Code, name: Type.Object({ vi: Name, en: Name }, strict), prefix: Type.String({ minLength: 1, maxLength: 3, pattern: '^[A-Z0-9]+$' }),
  targetWaitSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 })),
}, strict);
export const CreateCounterBody = Type.Object({
  number: Type.Integer({ minimum: 1, maximum: 9999 }), name: Name, serviceIds: Type.Array(Id, { maxItems: 50 }),
}, strict);
export const CreateStaffBody = Type.Object({
  username: Type.String({ minLength: 2, maxLength: 60, pattern: '^[A-Za-z0-9_.-]+$' }),
  password: Type.String({ minLength: 8, maxLength: 200 }), displayName: Name, role: Type.Enum(['admin', 'manager', 'staff']),
}, strict);
export const CreateDeviceBody = Type.Object({
  kind: DeviceKind, name: Name, counterId: Type.Optional(Id),
}, strict);
export const PairBody = Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$' }) }, strict);
/** One key per press of a kiosk's button: the retries of that press carry it too. */
export const IssueHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({
    minLength: 8, maxLength: 100, pattern: '^[A-Za-z0-9_.:-]+$',
    description: 'One key per press (e.g. a random UUID), sent again with every retry of that press. A retry gets the ticket the first request made (201, same body, current position; header Idempotent-Replayed: true) instead of a second ticket; the same key with another service, priority or procedure is 409 ISSUE_KEY_REUSED. Keys are scoped to the issuing kiosk or official.',
  })),
});
export const IssueBody = Type.Object({
  serviceId: Id, priority: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })), lang: Type.Optional(Type.Enum(['vi', 'en'])),
  procedureCode: Type.Optional(Type.String({
    minLength: 1, maxLength: 40, pattern: '^[0-9A-Za-z.]+$',
    description: "the procedure the citizen found at the kiosk (its national code, one of the service's procedures): the ticket remembers it, prints it and shows it at the counter. 400 UNKNOWN_PROCEDURE when the service does not list it",
  })),
}, strict);
export const PauseBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 200 })) }, strict);
export const TransferBody = Type.Object({ serviceId: Id }, strict);
export const RatingBody = Type.Object({
  score: Type.Integer({ minimum: 1, maximum: 10 }), reason: Type.Optional(Code), comment: Type.Optional(Type.String({ maxLength: 1000 })),
}, strict);

export const TicketReply = Type.Object({ ticket: Ticket });

export const PrintReply = Type.Object({
  status: Type.Enum(['sent', 'failed', 'none']),
  reason: Type.Optional(Type.Enum(['paper_out', 'offline', 'error', 'timeout'], {
    description: "when status is 'failed'. paper_out and error come from the printer's own status reply; "
      + 'offline is also the one answer whenever no printer answered at the address, whatever was there (nothing, another kind of service, a refused address).',
  })),
});

/**
 * POST /sites/:siteId/tickets 201: `{ticket}` as API.md says, plus the extension fields `print`
 * (how the kiosk's printer did) and `phoneUrl` (the address in the QR code, so the kiosk shows
 * the same QR as the paper).
 */
export const IssueReply = Type.Object({
  ticket: Ticket,
  procedure: Type.Optional(Type.Object({ code: Type.String(), name: Type.Object({ vi: Type.String(), en: Type.String() }) }, { description: 'the procedure of procedureCode, as printed' })),
  print: Type.Optional(PrintReply),
  phoneUrl: Type.Optional(Type.String()),
});

// ---- a kiosk's printer (PUT /devices/:deviceId/printer), kept in device.settings.printer: a raw
// TCP (port 9100) network printer the server drives itself, or {kind:'agent'}, a USB or serial
// printer on the kiosk PC that the site agent drives (docs/site-agent.md).

/** A host name or an IPv4/IPv6 address, nothing that could carry a path, user or scheme. */
const Host = Type.String({ minLength: 1, maxLength: 253, pattern: '^(\\[?[0-9A-Fa-f:.]+\\]?|[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*)$' });

export const TcpPrinterBody = Type.Object({
  kind: Type.Literal('tcp'),
  host: Host,
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_535, description: 'raw printing port, 9100 when absent' })),
  widthDots: Type.Optional(Type.Integer({ minimum: 128, maximum: 1024, multipleOf: 8, description: '576 for 80 mm paper (default), 384 for 58 mm' })),
}, strict);
export type TcpPrinter = Static<typeof TcpPrinterBody>;

export const AgentPrinterBody = Type.Object({
  kind: Type.Literal('agent', { description: "printed by the site agent on this kiosk PC (USB or serial printer; docs/site-agent.md)" }),
  deviceId: Type.Optional(Type.String({
    format: 'uuid',
    description: 'the device the site agent is paired as, when it is not this kiosk itself (a device has one token, so an agent beside a paired kiosk screen pairs as its own device of the site)',
  })),
}, strict);
export type AgentPrinter = Static<typeof AgentPrinterBody>;

export const KioskPrinterBody = Type.Union([TcpPrinterBody, AgentPrinterBody]);
export type KioskPrinter = TcpPrinter | AgentPrinter;

/** PUT body: a printer, or null to take it away. */
export const PrinterBody = Type.Union([TcpPrinterBody, AgentPrinterBody, Type.Null()]);

export const PrinterReply = Type.Object({
  deviceId: Type.String(),
  printer: Type.Union([TcpPrinterBody, AgentPrinterBody, Type.Null()]),
});


/** How printing a ticket went (the `print` of the issue reply, a test print). */
export type PrintOutcome = Static<typeof PrintReply>;
export type IssueReply = Static<typeof IssueReply>;
