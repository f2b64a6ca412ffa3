import type { DossierDirection, Ticket, TicketDossier, TicketProcedure, Visit } from '@qms/protocol';
import type { QmsClient } from '@qms/protocol/client';

// What the visit at the desk is about: the procedures on the ticket (found at the kiosk, or set
// here) and the dossier codes received or returned during it. Read whenever the ticket at the
// counter changes and after every reconnect. Each change is one request answered with the whole
// visit; changes go one after the other, so an older answer never overwrites a newer one.

/**
 * DossierCode's rule (protocol/src/dossiers.ts: 3-40 letters, digits and . _ / -), checked
 * here so a mistyped or misread code gets a sentence rather than a request.
 */
export const DOSSIER_CODE = /^[A-Za-z0-9._/-]{3,40}$/;

/** what became of a code typed or scanned into the field */
export type DossierOutcome = 'sent' | 'invalid' | 'duplicate' | 'no-ticket';

export const dossierKey = (code: string, direction: DossierDirection) => `${code}|${direction}`;

export class TicketVisit {
  ticketId = $state<string | null>(null);
  procedures = $state<TicketProcedure[]>([]);
  dossiers = $state<TicketDossier[]>([]);
  /** read for this ticket; `failed`: the last read got no answer */
  state = $state<'none' | 'loading' | 'loaded' | 'failed'>('none');
  /** codes sent and not answered yet, listed as "saving" */
  pending = $state<{ code: string; direction: DossierDirection }[]>([]);
  /** the direction of the next code: the last one chosen, kept for the whole session */
  direction = $state<DossierDirection>('received');
  /** the dossier row to draw the eye to (just recorded, or scanned a second time) */
  flash = $state<{ key: string; seq: number } | null>(null);
  savingProcedures = $state(false);

  private generation = 0;
  private queue: Promise<void> = Promise.resolve();
  private flashSeq = 0;

  constructor(
    private readonly client: Pick<QmsClient, 'visit' | 'setTicketProcedures' | 'addDossier' | 'removeDossier'>,
    /** a refusal or a lost answer, told to the official */
    private readonly report: (error: unknown) => void,
  ) {}

  /** The ticket at the counter is now `ticket`; `again`: read it even if it is the same one (a reconnect). */
  follow(ticket: Pick<Ticket, 'id'> | null, again = false): void {
    const id = ticket?.id ?? null;
    if (id === this.ticketId && !again) return;
    if (id !== this.ticketId) {
      this.generation++;
      this.ticketId = id;
      this.procedures = [];
      this.dossiers = [];
      this.pending = [];
      this.flash = null;
      this.state = id ? 'loading' : 'none';
    }
    if (id) void this.load(id, this.generation);
  }

  /**
   * Reads the visit again: no event says that the official's other browser (or a manager)
   * changed it, so the terminal asks when it gets the focus back.
   */
  refresh(): void {
    if (this.ticketId) void this.load(this.ticketId, this.generation);
  }

  get codes(): string[] {
    return this.procedures.map((p) => p.code);
  }

  has(code: string): boolean {
    return this.procedures.some((p) => p.code === code);
  }

  addProcedure(code: string): Promise<boolean> {
    return this.has(code) ? Promise.resolve(true) : this.setProcedures([...this.codes, code]);
  }

  removeProcedure(code: string): Promise<boolean> {
    return this.setProcedures(this.codes.filter((c) => c !== code));
  }

  /** one procedure for another, in its place */
  replaceProcedure(old: string, code: string): Promise<boolean> {
    if (old === code) return Promise.resolve(true);
    return this.setProcedures([...new Set(this.codes.map((c) => (c === old ? code : c)))]);
  }

  setDirection(direction: DossierDirection): void {
    this.direction = direction;
  }

  /**
   * A code typed or scanned into the field, recorded with the chosen direction. Lower case is
   * fine (the server keeps codes upper-case); the same code and direction twice shows once.
   */
  submitDossier(raw: string): DossierOutcome {
    const id = this.ticketId;
    if (!id) return 'no-ticket';
    const code = raw.trim().toUpperCase();
    if (!DOSSIER_CODE.test(code)) return 'invalid';
    const direction = this.direction;
    const key = dossierKey(code, direction);
    if (this.dossiers.some((d) => dossierKey(d.dossierCode, d.direction) === key) || this.pending.some((p) => dossierKey(p.code, p.direction) === key)) {
      this.showRow(key);
      return 'duplicate';
    }
    this.pending = [...this.pending, { code, direction }];
    const generation = this.generation;
    void this.enqueue(generation, async () => {
      try {
        this.apply(await this.client.addDossier(id, { dossierCode: code, direction }), generation);
        this.showRow(key);
      } finally {
        if (generation === this.generation) this.pending = this.pending.filter((p) => dossierKey(p.code, p.direction) !== key);
      }
    });
    return 'sent';
  }

  removeDossier(dossierId: string): Promise<boolean> {
    const id = this.ticketId;
    if (!id) return Promise.resolve(false);
    const generation = this.generation;
    return this.enqueue(generation, async () => {
      await this.client.removeDossier(id, dossierId);
      if (generation === this.generation) this.dossiers = this.dossiers.filter((d) => d.id !== dossierId);
    });
  }

  private setProcedures(codes: string[]): Promise<boolean> {
    const id = this.ticketId;
    if (!id) return Promise.resolve(false);
    const generation = this.generation;
    this.savingProcedures = true;
    return this.enqueue(generation, async () => {
      try {
        this.apply(await this.client.setTicketProcedures(id, codes), generation);
      } finally {
        this.savingProcedures = false;
      }
    });
  }

  /** runs `work` after the changes before it; false (and the official told why) when it failed */
  private enqueue(generation: number, work: () => Promise<void>): Promise<boolean> {
    const run = this.queue.then(async () => {
      try {
        await work();
        return true;
      } catch (error) {
        // about a ticket that has left the desk meanwhile: nothing to say any more
        if (generation === this.generation) this.report(error);
        return false;
      }
    });
    this.queue = run.then(() => undefined);
    return run;
  }

  /** a read, in line with the changes (an answer read before a change's never comes after it) */
  private load(id: string, generation: number): Promise<void> {
    if (this.state !== 'loaded') this.state = 'loading';
    const run = this.queue.then(async () => {
      if (generation !== this.generation) return;
      try {
        this.apply(await this.client.visit(id), generation);
      } catch {
        // the next change of ticket or reconnect reads it again; the panel says it is not read
        if (generation === this.generation && this.state !== 'loaded') this.state = 'failed';
      }
    });
    this.queue = run;
    return run;
  }

  private apply(visit: Visit, generation: number): void {
    if (generation !== this.generation || visit.ticket.id !== this.ticketId) return;
    this.procedures = visit.procedures;
    this.dossiers = visit.dossiers;
    this.state = 'loaded';
  }

  private showRow(key: string): void {
    this.flash = { key, seq: ++this.flashSeq };
  }
}
