import type { AgentDeviceApi } from '../agent/peripheral.ts';
import { actionText, type PadAction } from './pad.actions.ts';

/**
 * Turns a pad's presses into API calls of the device the pad belongs to. The server is the
 * referee: a press it refuses (no ticket to finish, already rated, counter closed) is logged
 * and changes nothing; the pad never guesses state the server would not confirm.
 */

export interface PadOutcome {
  action: string;
  /** done: the server did it; nothing: nothing to act on (no one waiting, no ticket); refused: 4xx; failed: network or 5xx */
  result: 'done' | 'nothing' | 'refused' | 'failed';
  httpStatus?: number;
  /** the server's error code of a refusal (ALREADY_RATED, COUNTER_NOT_OPEN...) */
  code?: string;
  ticket?: { id: string; code: string };
  message: string;
}

export interface PadDispatcherOptions {
  name: string;
  pauseReason?: string;
  lowRatingReason?: string;
  criticismComment?: string;
  /** every outcome, after it is logged (tests, the agent's status page) */
  onOutcome?: (outcome: PadOutcome) => void;
}

interface RatingLevel { score: number; asksReason?: boolean }
interface RatingRequest { ticketId: string; code: string; finishedAt: string }

const TICKET_PATHS = { recall: 'recall', start: 'start', finish: 'finish', 'no-show': 'no-show' } as const;

export class PadDispatcher {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly pending = new Set<string>();
  private scale: RatingLevel[] | null = null;
  private reasons: string[] | null = null;
  /** the ticket this rating pad last rated (or was refused for): a second press goes there again */
  private answered: RatingRequest | null = null;
  private unsubscribe: (() => void)[] = [];

  constructor(private readonly api: AgentDeviceApi, private readonly options: PadDispatcherOptions) {}

  /** Rating pads read the site's scale and reasons now and whenever the site changes them. */
  async start(): Promise<void> {
    if (this.api.device.kind !== 'rating') return;
    this.unsubscribe = [
      this.api.on('site:updated', (payload: { parts?: string[] } | undefined) => {
        if (!payload?.parts || payload.parts.some((p) => /rating|site/i.test(p))) this.scale = null;
      }),
      // a (re)connect: a change made while the socket was down is read at the next press
      this.api.on('queue:snapshot', () => {
        this.scale = null;
      }),
    ];
    await this.loadScale().catch((err: unknown) => {
      this.api.log.warn({ pad: this.options.name, err: String(err) }, 'pad: cannot read the rating scale yet; will retry on the first press');
    });
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  /**
   * Performs one action after the previous ones finished. A press of an action that is still
   * queued or running is dropped: a held, bouncing or hammered button acts once.
   */
  dispatch(action: PadAction): Promise<PadOutcome> {
    const text = actionText(action);
    if (this.pending.has(text)) {
      return Promise.resolve(this.report({ action: text, result: 'nothing', message: 'already in progress' }, 'info'));
    }
    this.pending.add(text);
    const run = this.chain.then(() => this.perform(action)).finally(() => this.pending.delete(text));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async perform(action: PadAction): Promise<PadOutcome> {
    const text = actionText(action);
    try {
      if (action.kind === 'counter') {
        if (action.name === 'call-next') return await this.callNext();
        if (action.name === 'pause') return await this.counterStep(text, 'pause', { ...(this.options.pauseReason ? { reason: this.options.pauseReason } : {}) });
        if (action.name === 'resume') return await this.counterStep(text, 'resume');
        return await this.ticketStep(text, TICKET_PATHS[action.name]);
      }
      if (action.name === 'criticism') return await this.criticism();
      return await this.rate(action.score);
    } catch (err) {
      // request() throws only when the server cannot be reached
      return this.report({ action: text, result: 'failed', message: `server unreachable: ${err instanceof Error ? err.message : String(err)}` }, 'error');
    }
  }

  private get counterId(): string {
    return this.api.device.counterId!;
  }

  private async callNext(): Promise<PadOutcome> {
    const res = await this.api.request('POST', `/counters/${this.counterId}/call-next`);
    if (res.status === 204) return this.report({ action: 'call-next', result: 'nothing', httpStatus: 204, message: 'no one is waiting for this counter' }, 'info');
    return this.answer('call-next', res);
  }

  private async counterStep(text: string, path: 'pause' | 'resume', body?: object): Promise<PadOutcome> {
    return this.answer(text, await this.api.request('POST', `/counters/${this.counterId}/${path}`, body));
  }

  /** recall/start/finish/no-show act on the counter's current ticket, as the server sees it now. */
  private async ticketStep(text: string, path: string): Promise<PadOutcome> {
    const queue = await this.api.request('GET', `/sites/${this.api.device.siteId}/queue`);
    if (queue.status !== 200) return this.answer(text, queue);
    const counters = (queue.body?.counters ?? []) as { counterId: string; ticket?: { id: string; code: string } }[];
    const ticket = counters.find((c) => c.counterId === this.counterId)?.ticket;
    if (!ticket) return this.report({ action: text, result: 'nothing', message: 'this counter has no current ticket' }, 'info');
    return this.answer(text, await this.api.request('POST', `/tickets/${ticket.id}/${path}`));
  }

  private async criticism(): Promise<PadOutcome> {
    const body = this.options.criticismComment ? { comment: this.options.criticismComment } : {};
    return this.answer('criticism', await this.api.request('POST', '/alerts/criticism', body));
  }

  private async loadScale(): Promise<void> {
    const res = await this.api.request('GET', `/sites/${this.api.device.siteId}`);
    if (res.status !== 200) throw new Error(`GET /sites/${this.api.device.siteId} answered ${res.status}`);
    this.scale = (res.body?.ratingScale ?? []) as RatingLevel[];
    this.reasons = ((res.body?.ratingReasons ?? []) as { code: string }[]).map((r) => r.code);
    const { lowRatingReason } = this.options;
    if (lowRatingReason && this.reasons.length && !this.reasons.includes(lowRatingReason)) {
      this.api.log.error({ pad: this.options.name, lowRatingReason, reasons: this.reasons },
        'pad: lowRatingReason is not one of the site\'s rating reasons; low scores are sent without a reason');
    }
  }

  /**
   * The ticket to rate: the counter's latest finished, unrated ticket, unless it finished no
   * later than the one this pad already answered; then the answered one again, so that a
   * second press reaches the server and is refused there (409), never lands on an older ticket.
   */
  private async rate(score: number): Promise<PadOutcome> {
    const action = `score:${score}`;
    const res = await this.api.request('GET', `/counters/${this.counterId}/rating-request`);
    if (res.status !== 200 && res.status !== 204) return this.answer(action, res);
    const request = res.status === 200 ? (res.body as RatingRequest) : null;
    const newer = request && (!this.answered || Date.parse(request.finishedAt) > Date.parse(this.answered.finishedAt));
    const target = newer ? request : this.answered;
    if (!target) return this.report({ action, result: 'nothing', message: 'no finished ticket to rate at this counter' }, 'info');
    if (!this.scale) await this.loadScale().catch(() => undefined);
    const level = this.scale?.find((l) => l.score === score);
    const reason = level?.asksReason && this.options.lowRatingReason && (!this.reasons?.length || this.reasons.includes(this.options.lowRatingReason))
      ? this.options.lowRatingReason : undefined;
    const rated = await this.api.request('POST', `/tickets/${target.ticketId}/rating`, { score, ...(reason ? { reason } : {}) });
    if (rated.status === 201 || rated.body?.error?.code === 'ALREADY_RATED') this.answered = target;
    return this.answer(action, rated, { id: target.ticketId, code: target.code });
  }

  private answer(action: string, res: { status: number; body: any }, ticket?: { id: string; code: string }): PadOutcome {
    const t = ticket ?? (res.body?.ticket ? { id: String(res.body.ticket.id), code: String(res.body.ticket.code) } : undefined);
    if (res.status >= 200 && res.status < 300) {
      return this.report({ action, result: 'done', httpStatus: res.status, ...(t ? { ticket: t } : {}), message: t ? `${action} ${t.code}` : action }, 'info');
    }
    const error = res.body?.error as { code?: string; message?: string } | undefined;
    return this.report({
      action,
      result: res.status >= 500 ? 'failed' : 'refused',
      httpStatus: res.status,
      ...(error?.code ? { code: error.code } : {}),
      ...(t ? { ticket: t } : {}),
      message: error?.message ?? `HTTP ${res.status}`,
    }, res.status >= 500 || res.status === 401 || res.status === 403 ? 'error' : 'info');
  }

  private report(outcome: PadOutcome, level: 'info' | 'error'): PadOutcome {
    const line = { pad: this.options.name, ...outcome };
    const msg = outcome.result === 'done' ? 'pad: done' : outcome.result === 'nothing' ? 'pad: nothing to do'
      : outcome.result === 'refused' ? 'pad: refused by the server' : 'pad: failed';
    if (level === 'error') this.api.log.error(line, msg);
    else if (outcome.result === 'refused') this.api.log.warn(line, msg);
    else this.api.log.info(line, msg);
    try {
      this.options.onOutcome?.(outcome);
    } catch {
      // an observer's bug must not break the pad
    }
    return outcome;
  }
}
