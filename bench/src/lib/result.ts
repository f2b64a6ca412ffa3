// What every benchmark returns: figures with their floor and ratio, and whether the target held.

export interface Figure {
  label: string;
  value: number;
  unit: string;
  /** the same quantity measured on the floor in the same run */
  floor?: number;
  /** value / floor (or floor / value for throughputs: how much of the floor we reach) */
  ratio?: number;
  /** human target, e.g. "p99 ≤ 2× floor" */
  target?: string;
  met?: boolean;
}

export interface BenchResult {
  name: string;
  title: string;
  figures: Figure[];
  /** context: scale actually used, notes, profile lines */
  notes: string[];
  /** raw data for the JSON file */
  raw?: Record<string, unknown>;
  error?: string;
}

export interface BenchContext {
  quick: boolean;
  args: Map<string, string | true>;
  log: (line: string) => void;
  /** number option from --name=value, or the default (quick default when --quick) */
  num(name: string, normal: number, quick?: number): number;
  /** a fresh migrated database of the bench PostgreSQL */
  database(name: string): Promise<string>;
}
