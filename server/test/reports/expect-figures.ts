import { expect } from 'vitest';
import type { ReportTotals } from '../../src/reports/report.service.ts';

/** Every figure equal (key and label aside): counts exactly, durations and shares to 1e-6, nulls as nulls. */
export function expectFigures(actual: ReportTotals, expected: ReportTotals, where = ''): void {
  const names = (o: object) => Object.keys(o).filter((k) => k !== 'key' && k !== 'label').sort();
  for (const field of names(expected) as (keyof ReportTotals)[]) {
    const want = expected[field];
    const got = actual[field];
    const label = `${where}${where ? ' ' : ''}${field}`;
    if (field === 'ratingShares') {
      const w = want as Record<string, number>;
      const g = got as Record<string, number>;
      expect(Object.keys(g).sort(), label).toEqual(Object.keys(w).sort());
      for (const score of Object.keys(w)) expect(g[score], `${label}[${score}]`).toBeCloseTo(w[score]!, 6);
    } else if (want === null) {
      expect(got, label).toBeNull();
    } else {
      expect(got, label).not.toBeNull();
      expect(got as number, label).toBeCloseTo(want as number, 6);
    }
  }
  expect(names(actual), `${where} fields`).toEqual(names(expected));
}

/** A group with nothing in it: zero counts, null figures. */
export const NOTHING: ReportTotals = {
  issued: 0, served: 0, noShow: 0, waitAvgSeconds: null, waitP50Seconds: null, waitP90Seconds: null,
  serviceAvgSeconds: null, serviceP90Seconds: null, ratings: 0, ratingAvg: null, transferred: 0, transfersIn: 0, cancelled: 0, expired: 0,
  waits: 0, withinTargetShare: null, ratingShares: {}, notSatisfiedShare: null, estimateMaeSeconds: null,
};
