import { readFileSync } from 'node:fs';

/** A process's or thread's nice value (Linux: /proc/<pid>/stat, or /proc/self/task/<tid>/stat, field 19). */
export function niceOf(statPath: string): number {
  const stat = readFileSync(statPath, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}
