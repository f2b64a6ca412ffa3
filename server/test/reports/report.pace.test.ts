import { describe, expect, it } from 'vitest';
import { BUSY_WINDOW_MS, QueueActivity, ReportPace, withRestBudget } from '../../src/reports/pace.ts';

// The reports' pace (reports/pace.ts) on a clock of its own: a statement's work is the time the
// test lets pass while it runs, and a rest is a wait the test records and lets pass.

function paced(share: number, busy = { now: true }, restBudgetMs?: number) {
  let clock = 0;
  const rests: number[] = [];
  const pace = new ReportPace({
    share,
    ...(restBudgetMs === undefined ? {} : { restBudgetMs }),
    busy: () => busy.now,
    clock: () => clock,
    wait: async (ms) => {
      rests.push(ms);
      clock += ms;
    },
  });
  /** a statement that works `ms` from its start (the clock at its end at least there) and records when it started */
  const statement = (ms: number, starts: number[]) => () => {
    const start = clock;
    starts.push(start);
    return new Promise<number>((resolve) => setImmediate(() => {
      clock = Math.max(clock, start + ms);
      resolve(ms);
    }));
  };
  /** a statement outside a transaction, as the pool runs it: its connection taken once the pace is ready */
  const lone = async <T>(work: () => Promise<T>) => {
    const back = await pace.ready();
    try {
      return await pace.run(work);
    } finally {
      back();
    }
  };
  return { pace, rests, statement, lone, at: () => clock, advance: (ms: number) => { clock += ms; } };
}

describe('the reports\' pace', () => {
  it('while the queue is busy, rests after each statement in proportion to its work: at most the share of the time', async () => {
    const { pace, rests, statement, at, lone } = paced(0.2);
    const starts: number[] = [];
    for (const ms of [10, 30, 5]) await lone(statement(ms, starts));
    // a fifth of the time: 10 ms of work earns 40 of rest, 30 earns 120
    expect(rests).toEqual([40, 120]);
    expect(starts).toEqual([0, 50, 200]);
    expect(pace.restedMs).toBe(160);
    expect(at()).toBe(205);
  });

  it('runs a transaction\'s statements one after the other, and rests before the next connection', async () => {
    const { pace, rests, statement, lone } = paced(0.5);
    const starts: number[] = [];
    // a summary's slice: one connection, three statements (10 of work), then another report's
    // lone statement, after the slice's whole rest from its end
    const back = await pace.ready();
    for (const ms of [2, 5, 3]) await pace.run(statement(ms, starts));
    back();
    await lone(statement(1, starts));
    expect(starts).toEqual([0, 2, 7, 20]);
    expect(rests).toEqual([10]);
  });

  it('lets reports that come together take turns: one connection out at a time, each after the rests before it', async () => {
    const { rests, statement, lone } = paced(0.5);
    const starts: number[] = [];
    await lone(statement(10, starts));
    // two reports' statements come during the rest (10-20): one starts at its end (20-26), the
    // other after that one's rest (32-36), never side by side or back to back
    await Promise.all([lone(statement(4, starts)), lone(statement(6, starts))]);
    await lone(statement(1, starts));
    expect(starts).toEqual([0, 20, 32, 40]);
    expect(rests).toEqual([10, 6, 4]);
  });

  it('while the queue is quiet, runs them as they come, side by side, and rests never', async () => {
    const { pace, rests, statement, lone } = paced(0.2, { now: false });
    const starts: number[] = [];
    await Promise.all([lone(statement(10, starts)), lone(statement(10, starts))]);
    expect(starts).toEqual([0, 0]);
    expect(rests).toEqual([]);
    expect(pace.pacing).toBe(false);
  });

  it('with a share of 1, never paces', async () => {
    const { pace, rests, statement, lone } = paced(1);
    for (let i = 0; i < 3; i++) await lone(statement(10, []));
    expect(pace.pacing).toBe(false);
    expect(rests).toEqual([]);
  });

  it('tells a piece of work how long its own statements worked, not the others\' nor the rests', async () => {
    const { pace, rests, statement, lone } = paced(0.5);
    let firstDone!: () => void;
    const first = new Promise<void>((resolve) => { firstDone = resolve; });
    let release!: () => void;
    const between = new Promise<void>((resolve) => { release = resolve; });
    const mine = pace.measure(async () => {
      await lone(statement(7, []));
      firstDone();
      await between;
      await lone(statement(3, []));
      return 'mine';
    });
    // another report's statement between my two
    await first;
    const theirs = await pace.measure(() => lone(statement(20, [])));
    release();
    // mine rested 20 before its second statement (its first's 7, then theirs' 20, from 34 to 54)
    expect(await mine).toEqual({ value: 'mine', workedMs: 10, restedMs: 20 });
    expect(theirs.workedMs).toBe(20);
    expect(rests.length).toBe(2);
  });

  it('rests a report\'s statements until its budget is spent, then runs them at once (still earning rests for the others)', async () => {
    const { pace, rests, statement, at, lone } = paced(0.5);
    const starts: number[] = [];
    // a budget of 25 from the start: the rest before the second statement (10-20) is taken, the
    // one before the third (30-40) would end past it and is not
    const report = await pace.measure(async () => {
      for (const ms of [10, 10, 10]) await lone(statement(ms, starts));
      expect(pace.resting).toBe(false);
      return at();
    }, 25);
    expect(starts).toEqual([0, 20, 30]);
    expect(rests).toEqual([10]);
    expect(report.value).toBe(40);
    // another report's statement after it rests for the last one's work
    await lone(statement(1, starts));
    expect(starts.at(-1)).toBe(50);
  });

  it('cuts a rest short at the end of the report\'s budget', async () => {
    const { pace, rests, statement, lone } = paced(0.5);
    const starts: number[] = [];
    await pace.measure(async () => {
      await lone(statement(10, starts)); // rests until 20 earned; the budget ends at 15
      await lone(statement(10, starts));
    }, 15);
    expect(starts).toEqual([0, 15]);
    expect(rests).toEqual([5]);
  });

  it('gives each call of an object\'s methods its own budget', async () => {
    const { pace, rests, statement, lone } = paced(0.5, { now: true }, 15);
    const reports = {
      summary: async (n: number) => {
        for (let i = 0; i < n; i++) await lone(statement(10, []));
        return n;
      },
    };
    const budgeted = withRestBudget(reports, ['summary'], pace);
    // each call has 15 of rests from its start: the first rests 5 of the 10 its first statement
    // earned and then none; the second (from 35) rests the 10 earned before it, then none
    expect(await budgeted.summary(3)).toBe(3);
    expect(await budgeted.summary(3)).toBe(3);
    expect(rests).toEqual([5, 10]);
  });

  it('rests for a piece\'s own JavaScript (a file\'s chunk formatted) as for a statement\'s work, before the next statement', async () => {
    const { pace, rests, statement, advance, lone } = paced(0.5);
    const starts: number[] = [];
    await pace.withOwnWork(async () => {
      await lone(statement(10, starts)); // 0-10, rest until 20
      advance(6); // formatting its rows, 10-16: 6 more, until 26
    });
    await lone(statement(1, starts));
    expect(starts).toEqual([0, 26]);
    expect(rests).toEqual([10]);
  });

  it('a statement that fails still earns its rest, and the next one runs', async () => {
    const { rests, statement, lone } = paced(0.5);
    await expect(lone(async () => {
      await statement(8, [])();
      throw new Error('statement timeout');
    })).rejects.toThrow('statement timeout');
    await lone(statement(1, []));
    expect(rests).toEqual([8]);
  });

  it('refuses a share outside (0, 1]', () => {
    for (const share of [0, -0.5, 1.5, Number.NaN]) expect(() => new ReportPace({ share, busy: () => true })).toThrow(RangeError);
  });
});

describe('the queue\'s activity', () => {
  it('is busy for a few seconds after its last event, seen through the shared memory by another reader', () => {
    const noted = new QueueActivity();
    const reader = new QueueActivity(noted.buffer);
    expect(reader.busy(1_000_000)).toBe(false);
    noted.note(1_000_000);
    expect(reader.busy(1_000_000)).toBe(true);
    expect(reader.busy(1_000_000 + BUSY_WINDOW_MS - 1)).toBe(true);
    expect(reader.busy(1_000_000 + BUSY_WINDOW_MS)).toBe(false);
    // a clock set back (NTP after a boot with a wrong clock) makes no busy hours
    expect(reader.busy(1_000_000 - 60_000)).toBe(false);
  });
});
