import { readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat (or /proc/self/task/<tid>/stat) from the third on (the state). */
function statFields(statPath: string): string[] {
  const stat = readFileSync(statPath, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** A process's or thread's nice value (field 19). */
export function niceOf(statPath: string): number {
  return Number(statFields(statPath)[16]);
}

/** Linux's SCHED_IDLE policy number (sched.h), as policyOf reads it. */
export const SCHED_IDLE = 5;

/** A process's or thread's scheduling policy (field 41): 0 SCHED_OTHER, 5 SCHED_IDLE. */
export function policyOf(statPath: string): number {
  return Number(statFields(statPath)[38]);
}
