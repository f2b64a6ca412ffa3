/**
 * What a pad button can do. A counter pad acts for a `counter` device (the counter's own
 * buttons), a rating pad for a `rating` device (the citizen's keys). Written in config as text:
 * `call-next`, `recall`, `start`, `finish`, `no-show`, `pause`, `resume`, `score:N`, `criticism`.
 */

import { PeripheralConfigError } from '../agent/peripherals.ts';

export const COUNTER_ACTIONS = ['call-next', 'recall', 'start', 'finish', 'no-show', 'pause', 'resume'] as const;
export type CounterActionName = (typeof COUNTER_ACTIONS)[number];

export type PadAction =
  | { kind: 'counter'; name: CounterActionName }
  | { kind: 'rating'; name: 'score'; score: number }
  | { kind: 'rating'; name: 'criticism' };

/** Every action a config may name, for error messages and docs. */
export const ACTION_NAMES = [...COUNTER_ACTIONS, 'score:N', 'criticism'] as const;

/** The regular expression TypeBox checks an action against (scores 1..10, as the server). */
export const ACTION_PATTERN = `^(${COUNTER_ACTIONS.join('|')}|criticism|score:(10|[1-9]))$`;

/** Thrown for a pad config that cannot work; the agent reports it with where the entry is. */
export class PadConfigError extends PeripheralConfigError {
  override name = 'PadConfigError';
}

export function parseAction(text: string): PadAction {
  if ((COUNTER_ACTIONS as readonly string[]).includes(text)) return { kind: 'counter', name: text as CounterActionName };
  if (text === 'criticism') return { kind: 'rating', name: 'criticism' };
  const score = /^score:(10|[1-9])$/.exec(text);
  if (score) return { kind: 'rating', name: 'score', score: Number(score[1]) };
  throw new PadConfigError(`unknown action "${text}" (one of: ${ACTION_NAMES.join(', ')})`);
}

export function actionText(action: PadAction): string {
  return action.name === 'score' ? `score:${action.score}` : action.name;
}

/**
 * A pad acts for the device it is attached to: counter actions need a counter device, scores
 * and criticism a rating device. Checked when the agent builds the pad, not at the first press.
 */
export function checkActionsFor(deviceKind: string, actions: { where: string; action: PadAction }[]): void {
  if (deviceKind !== 'counter' && deviceKind !== 'rating') {
    throw new PadConfigError(`a pad belongs to a counter or rating device, not a ${deviceKind} device`);
  }
  for (const { where, action } of actions) {
    if (action.kind !== deviceKind) {
      throw new PadConfigError(
        `${where}: "${actionText(action)}" is a ${action.kind} action, but this pad belongs to a ${deviceKind} device`
        + ` (${deviceKind === 'counter' ? COUNTER_ACTIONS.join(', ') : 'score:N, criticism'})`,
      );
    }
  }
}
