import { ApiError, type Issued, type QmsClient } from '@qms/protocol/client';
import { newIssueKey } from '@qms/ui-shared/issue-key';

// A walk-in number issued at the counter, for a citizen standing at the desk who has no ticket
// (or needs one for another field). The same call as the kiosk's, made as the official: one
// Idempotency-Key per press, kept for a second press after an answer that never came, so a lost
// reply gives the same ticket again rather than a second one.

const ATTEMPT_MS = 12_000;

export interface WalkInChoice {
  serviceId: string;
  /** a priority group's code, or 'none' */
  priority: string;
  /** a procedure of the chosen service (its national code), or '' */
  procedureCode: string;
}

export class WalkIn {
  choice = $state<WalkInChoice>({ serviceId: '', priority: 'none', procedureCode: '' });
  status = $state<'form' | 'issuing' | 'issued'>('form');
  issued = $state<Issued | null>(null);
  /** the last press got no answer: a second press sends the same key */
  unanswered = $state(false);
  /** why the last press gave no number, in both languages (shown in the dialog) */
  error = $state<{ vi: string; en: string } | null>(null);

  private key = newIssueKey();
  private keyFor = '';

  constructor(
    private readonly client: Pick<QmsClient, 'issue'>,
    private readonly siteId: string,
    private readonly explain: (error: unknown) => { vi: string; en: string },
    serviceId: string,
    private readonly procedureName: (code: string) => { vi: string; en: string } = () => ({ vi: '', en: '' }),
  ) {
    this.choice.serviceId = serviceId;
  }

  choose(change: Partial<WalkInChoice>): void {
    if (this.status === 'issuing') return;
    this.error = null;
    const next = { ...this.choice, ...change };
    // a procedure belongs to its service: another service drops it
    if (change.serviceId && change.serviceId !== this.choice.serviceId && change.procedureCode === undefined) next.procedureCode = '';
    this.choice = next;
  }

  async issue(): Promise<Issued | null> {
    if (this.status !== 'form' || !this.choice.serviceId) return null;
    const { serviceId, priority, procedureCode } = this.choice;
    // one key per press; the same one only for the same choice pressed again after no answer
    const what = JSON.stringify(this.choice);
    if (!this.unanswered || what !== this.keyFor) this.key = newIssueKey();
    this.keyFor = what;
    this.status = 'issuing';
    this.error = null;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), ATTEMPT_MS);
    try {
      const issued = await this.client.issue(this.siteId, {
        serviceId, lang: 'vi', ...(priority !== 'none' ? { priority } : {}), ...(procedureCode ? { procedureCode } : {}),
      }, { key: this.key, signal: abort.signal });
      // a replayed answer may come without the procedure (the server looks up only a kiosk's):
      // the one chosen was accepted with the ticket, so it is the one to read out
      this.issued = issued.procedure || !procedureCode ? issued : { ...issued, procedure: { code: procedureCode, name: this.procedureName(procedureCode) } };
      this.unanswered = false;
      this.status = 'issued';
      return issued;
    } catch (error) {
      // a refusal is an answer (the next press is a new one); a timeout, the network or a 5xx is not
      this.unanswered = !(error instanceof ApiError && error.status < 500 && error.code !== 'BAD_REPLY');
      this.status = 'form';
      this.error = this.explain(error);
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  /** another number, for the next citizen (the same service, no priority nor procedure) */
  again(): void {
    this.issued = null;
    this.unanswered = false;
    this.error = null;
    this.choice = { serviceId: this.choice.serviceId, priority: 'none', procedureCode: '' };
    this.status = 'form';
  }
}
