import { describe, expect, it } from 'vitest';
import type { CounterQueue, QueueSnapshot, RecentCall, SiteConfig, Ticket, TicketCalled } from '@qms/protocol';
import {
  boardOf, callInZone, counterColumns, counterInZone, entryFromLive, entryFromRecent, FLASH_MS, flashLeft, hearCalls, heardFromRecord, heardRecord, KEPT_CALLS, mergeCalls,
  MISSED_CALL_MS, missedCalls as missedOf, serviceInZone, snapshotCalls, wasHeard, type Heard, serviceRows, zoneOf, type CallEntry,
} from '../src/display/board.ts';

// The display's pure rules: zones, which calls the board shows, flashing, how counters fit.

const S = { HT: 's-ht', CT: 's-ct', DD: 's-dd' };
const C = { 1: 'c-1', 2: 'c-2', 3: 'c-3', 4: 'c-4' } as Record<number, string>;
const SERVES: Record<number, string[]> = { 1: [S.HT], 2: [S.HT, S.CT], 3: [S.CT], 4: [S.DD] };

const config = {
  id: 'site', code: 'X', name: 'Trung tâm', level: 'commune', timezone: 'Asia/Ho_Chi_Minh', serviceOrder: 'fifo', priorityRatio: null,
  transferToFront: false, ratingScale: [], ratingReasons: [], announcement: null, openingHours: [], holidays: [], priorityGroups: [],
  services: [
    { id: S.HT, code: 'HT', prefix: 'A', name: { vi: 'Tư pháp – Hộ tịch', en: 'Justice' }, targetWaitSeconds: 900, procedures: [], counterNumbers: [1, 2] },
    { id: S.CT, code: 'CT', prefix: 'B', name: { vi: 'Chứng thực', en: 'Certification' }, targetWaitSeconds: 900, procedures: [], counterNumbers: [2, 3] },
    { id: S.DD, code: 'DD', prefix: 'C', name: { vi: 'Đất đai', en: 'Land' }, targetWaitSeconds: 900, procedures: [], counterNumbers: [4] },
  ],
  counters: [4, 3, 2, 1].map((n) => ({ id: C[n]!, number: n, name: `Quầy ${n}`, status: 'open' as const, serviceIds: SERVES[n]! })),
} satisfies SiteConfig;

// 2026-11-24 09:00 in Ho Chi Minh City
const NOW = new Date('2026-11-24T02:00:00Z');
const at = (minutesAgo: number) => NOW.getTime() - minutesAgo * 60_000;

function ticket(code: string, serviceId: string, status: Ticket['status'] = 'called'): Ticket {
  return {
    id: `t-${code}`, publicId: `p-${code}`, code, number: Number(code.slice(1)), siteId: 'site', serviceId, status, priority: 'none', lang: 'vi',
    issuedAt: new Date(at(30)).toISOString(), transferCount: 0,
  };
}

function call(code: string, serviceId: string, counter: number, minutesAgo: number, recall = false): CallEntry {
  return { ticketId: `t-${code}`, code, serviceId, counterId: C[counter]!, counterNumber: counter, counterName: `Quầy ${counter}`, at: at(minutesAgo), recall };
}

function counterQueue(n: number, status: CounterQueue['status'], current?: Ticket): CounterQueue {
  return { counterId: C[n]!, number: n, name: `Quầy ${n}`, status, serviceIds: SERVES[n]!, ...(current ? { ticket: current } : {}) };
}

function snapshot(over: Partial<QueueSnapshot> = {}): QueueSnapshot {
  return {
    siteId: 'site', at: NOW.toISOString(),
    services: [
      { serviceId: S.HT, waiting: 4, longestWaitSeconds: 60, estimatedWaitSeconds: 300, targetWaitSeconds: 900 },
      { serviceId: S.CT, waiting: 0, longestWaitSeconds: 0, estimatedWaitSeconds: 0, targetWaitSeconds: 900 },
      { serviceId: S.DD, waiting: 11, longestWaitSeconds: 600, estimatedWaitSeconds: 1200, targetWaitSeconds: 900 },
    ],
    counters: [counterQueue(2, 'open', ticket('B003', S.CT, 'serving')), counterQueue(1, 'open', ticket('A007', S.HT)), counterQueue(3, 'paused'), counterQueue(4, 'closed')],
    recentCalls: [],
    ...over,
  };
}

describe('zoneOf: the zone kept in device.settings', () => {
  it('reads counters and services, and calls anything else the whole site', () => {
    expect(zoneOf({ zone: { counterIds: ['a', 'b'] } })).toEqual({ counterIds: ['a', 'b'] });
    expect(zoneOf({ zone: { serviceIds: ['s'], counterIds: [] }, printer: {} })).toEqual({ serviceIds: ['s'] });
    expect(zoneOf({ zone: { counterIds: ['a'], serviceIds: ['s'] } })).toEqual({ counterIds: ['a'], serviceIds: ['s'] });
    for (const none of [{}, null, undefined, { zone: null }, { zone: {} }, { zone: 'all' }, { zone: { counterIds: [1, null, ''] } }]) {
      expect(zoneOf(none)).toBeNull();
    }
  });
});

describe('zone filtering', () => {
  it('takes every call without a zone', () => {
    expect(callInZone(null, { counterId: C[4]!, serviceId: S.DD })).toBe(true);
  });

  it('limits calls by counter, by service, or by both at once', () => {
    const byCounter = { counterIds: [C[1]!, C[2]!] };
    expect(callInZone(byCounter, { counterId: C[2]!, serviceId: S.CT })).toBe(true);
    expect(callInZone(byCounter, { counterId: C[3]!, serviceId: S.CT })).toBe(false);
    const byService = { serviceIds: [S.HT] };
    expect(callInZone(byService, { counterId: C[2]!, serviceId: S.HT })).toBe(true);
    expect(callInZone(byService, { counterId: C[2]!, serviceId: S.CT })).toBe(false);
    const both = { counterIds: [C[2]!], serviceIds: [S.HT] };
    expect(callInZone(both, { counterId: C[2]!, serviceId: S.HT })).toBe(true);
    expect(callInZone(both, { counterId: C[1]!, serviceId: S.HT })).toBe(false);
    expect(callInZone(both, { counterId: C[2]!, serviceId: S.CT })).toBe(false);
  });

  it('keeps the counters of the zone, and those serving one of its services', () => {
    const counters = [1, 2, 3, 4].map((n) => ({ counterId: C[n]!, serviceIds: SERVES[n]! }));
    const kept = (zone: Parameters<typeof counterInZone>[0]) => counters.filter((c) => counterInZone(zone, c)).map((c) => c.counterId);
    expect(kept(null)).toEqual([C[1], C[2], C[3], C[4]]);
    expect(kept({ counterIds: [C[4]!] })).toEqual([C[4]]);
    expect(kept({ serviceIds: [S.CT] })).toEqual([C[2], C[3]]);
    expect(kept({ counterIds: [C[1]!, C[3]!], serviceIds: [S.CT] })).toEqual([C[3]]);
  });

  it('keeps the services of the zone, and those its counters serve', () => {
    const counters = [1, 2, 3, 4].map((n) => ({ counterId: C[n]!, serviceIds: SERVES[n]! }));
    const kept = (zone: Parameters<typeof serviceInZone>[0]) => Object.values(S).filter((s) => serviceInZone(zone, s, counters));
    expect(kept(null)).toEqual([S.HT, S.CT, S.DD]);
    expect(kept({ serviceIds: [S.DD] })).toEqual([S.DD]);
    expect(kept({ counterIds: [C[2]!] })).toEqual([S.HT, S.CT]);
    expect(kept({ counterIds: [C[2]!], serviceIds: [S.CT, S.DD] })).toEqual([S.CT]);
  });
});

describe('missedCalls: what a display says late, when it is back', () => {
  const iso = (secondsAgo: number) => new Date(NOW.getTime() - secondsAgo * 1000).toISOString();
  const ref = (n: number) => ({ id: C[n]!, number: n, name: `Quầy ${n}` });
  /** a ticket as the server has it now: called (or after) at counter `n` `calledSecondsAgo` ago */
  const row = (code: string, n: number, calledSecondsAgo: number, status: Ticket['status'] = 'called'): Ticket =>
    ({ ...ticket(code, S.HT, status), counterId: C[n]!, calledAt: iso(calledSecondsAgo) });
  /** a recent call (or recall) of that ticket `secondsAgo` ago */
  const recent = (t: Ticket, n: number, secondsAgo: number): RecentCall => ({ ticket: t, counter: ref(n), at: iso(secondsAgo) });
  const snap = (recentCalls: RecentCall[], counters: CounterQueue[] = []) => snapshot({ recentCalls, counters });
  const heardOf = (...calls: [Ticket, number][]): Heard => new Map(calls.map(([t, secondsAgo]) => [t.id, NOW.getTime() - secondsAgo * 1000]));
  const said = (calls: RecentCall[]) => calls.map((c) => `${c.ticket.code}@${c.counter.number}`);
  const missedCalls = (s: QueueSnapshot, heard: Heard) => missedOf(snapshotCalls(s), heard, Date.parse(s.at));

  it('says the calls not heard, oldest first, and none heard live or from an earlier snapshot', () => {
    const a7 = row('A007', 1, 40);
    const a8 = row('A008', 1, 20);
    const a9 = row('A009', 2, 5);
    const calls = [recent(a9, 2, 5), recent(a8, 1, 20), recent(a7, 1, 40)];
    expect(said(missedCalls(snap(calls), new Map()))).toEqual(['A007@1', 'A008@1', 'A009@2']);
    expect(said(missedCalls(snap(calls), heardOf([a7, 40])))).toEqual(['A008@1', 'A009@2']);
  });

  it('tells a call from its recall by the server\'s instant: a recall missed is said, a call heard is not said again', () => {
    const a8 = row('A008', 1, 50);
    const recalled = [recent(a8, 1, 3), recent(a8, 1, 50)];
    expect(said(missedCalls(snap(recalled), heardOf([a8, 50])))).toEqual(['A008@1']);
    expect(missedCalls(snap(recalled), heardOf([a8, 3]))).toEqual([]);
    // one millisecond apart is another call
    expect(said(missedCalls(snap([recent(a8, 1, 3)]), new Map([[a8.id, NOW.getTime() - 3001]]))))
      .toEqual(['A008@1']);
  });

  it('says nothing for a citizen no longer awaited: being served, gone, sent to another field', () => {
    const serving = row('A011', 1, 10, 'serving');
    const gone = row('A012', 2, 10, 'no_show'); // a no-show keeps its counter
    const transferred: Ticket = { ...ticket('A013', S.CT, 'waiting'), transferCount: 1 }; // waits again, no counter
    const calls = [recent(serving, 1, 10), recent(gone, 2, 10), recent(transferred, 3, 10)];
    expect(missedCalls(snap(calls), new Map())).toEqual([]);
    // the same, still called: each is said
    expect(said(missedCalls(snap([recent(row('A011', 1, 10), 1, 10), recent(row('A012', 2, 10), 2, 10)]), new Map()))).toEqual(['A011@1', 'A012@2']);
  });

  it('takes each ticket\'s latest call: called again at another counter after a transfer', () => {
    const a15 = row('A015', 3, 5);
    expect(said(missedCalls(snap([recent(a15, 3, 5), recent(a15, 1, 50)]), new Map()))).toEqual(['A015@3']);
    expect(said(missedCalls(snap([recent(a15, 1, 50), recent(a15, 3, 5)]), new Map()))).toEqual(['A015@3']);
  });

  it('lets a call older than MISSED_CALL_MS go, however long the display was away', () => {
    const s = MISSED_CALL_MS / 1000;
    const calls = [recent(row('A016', 1, s - 1), 1, s - 1), recent(row('A017', 2, s + 1), 2, s + 1)];
    expect(said(missedCalls(snap(calls), new Map()))).toEqual(['A016@1']);
  });

  it('finds a call past the few recent calls the server sends, at its counter, taken at its first call', () => {
    const a20 = row('A020', 4, 30);
    const counters = [counterQueue(4, 'open', a20), counterQueue(1, 'open', row('A021', 1, 20, 'serving'))];
    expect(said(missedCalls(snap([], counters), new Map()))).toEqual(['A020@4']);
    expect(missedCalls(snap([], counters), heardOf([a20, 30]))).toEqual([]);
    // heard its recall (later than its first call): heard
    expect(missedCalls(snap([], counters), heardOf([a20, 10]))).toEqual([]);
  });

  it('finds a recall past the few recent calls, at its instant (lastCallAt): said though its first call was heard', () => {
    const a22 = row('A022', 4, 90);
    const recalled = { ...counterQueue(4, 'open', a22), lastCallAt: iso(15) };
    // heard the first call before going away; the recall, made while away, fell out of the recent calls
    expect(said(missedCalls(snap([], [recalled]), heardOf([a22, 90])))).toEqual(['A022@4']);
    expect(snapshotCalls(snap([], [recalled])).map((c) => c.at)).toEqual([iso(15)]);
    expect(missedCalls(snap([], [recalled]), heardOf([a22, 15]))).toEqual([]);
    // with the recall among the recent calls too, the same call
    expect(snapshotCalls(snap([recent(a22, 4, 15)], [recalled])).map((c) => c.at)).toEqual([iso(15)]);
    // an older first call in the recent calls gives way to the counter's later recall
    expect(said(missedCalls(snap([recent(a22, 4, 90)], [recalled]), heardOf([a22, 90])))).toEqual(['A022@4']);
  });

  it('forgets heard calls once they are too old to be said late, and never moves a ticket back', () => {
    const heard: Heard = new Map();
    hearCalls(heard, [{ ticketId: 't-A1', at: 1_000 }, { ticketId: 't-A2', at: 5_000 }], 5_000);
    hearCalls(heard, [{ ticketId: 't-A2', at: 2_000 }], 5_000);
    expect(wasHeard(heard, 't-A2', 5_000)).toBe(true);
    hearCalls(heard, [], 1_000 + MISSED_CALL_MS + 1);
    expect([...heard.keys()]).toEqual(['t-A2']);
  });

  it('after a reload, says the calls the page before had still to say, and not the one it had said', () => {
    const [a1, a2, a3] = [row('A001', 1, 50), row('A002', 2, 40), row('A003', 3, 30)];
    const heard = heardOf([a1, 50], [a2, 40], [a3, 30]);
    // A001 said; A002 being said (cut off by the reload); A003 waiting its turn
    const kept = heardRecord('d1', heard, [{ ticketId: a2.id, at: heard.get(a2.id)! }, { ticketId: a3.id, at: heard.get(a3.id)! }]);
    const next = heardFromRecord(JSON.parse(JSON.stringify(kept)), 'd1')!;
    expect([...next.keys()]).toEqual([a1.id]);
    expect(said(missedCalls(snap([recent(a3, 3, 30), recent(a2, 2, 40), recent(a1, 1, 50)]), next))).toEqual(['A002@2', 'A003@3']);
  });
});

describe('the record a display keeps across reloads', () => {
  const reload = (record: unknown, deviceId = 'd1') => heardFromRecord(JSON.parse(JSON.stringify(record)), deviceId);

  it('marks only a ticket\'s latest call heard, so calls past saying late never pile up', () => {
    const heard: Heard = new Map([['t-A1', 5_000]]);
    hearCalls(heard, [{ ticketId: 't-A2', at: 1_000 }], 1_000);
    // A1's first call is still queued, its recall heard since (covered by the recall, also queued);
    // A2 queued, then forgotten by hearCalls once too old to be said late: a display whose sound
    // stays blocked keeps no such call in its record
    hearCalls(heard, [], 1_000 + MISSED_CALL_MS + 1);
    const record = heardRecord('d1', heard, [{ ticketId: 't-A1', at: 2_000 }, { ticketId: 't-A1', at: 5_000 }, { ticketId: 't-A2', at: 1_000 }]);
    expect(record.unsaid).toEqual(['t-A1@5000']);
    expect(record.calls).toEqual([['t-A1', 5_000]]);
  });

  it('reads an older page\'s record (no unsaid) as all heard, and no other device\'s or broken one', () => {
    expect(reload({ deviceId: 'd1', calls: [['t-A1', 1_000]] }) && [...reload({ deviceId: 'd1', calls: [['t-A1', 1_000]] })!]).toEqual([['t-A1', 1_000]]);
    expect(reload(heardRecord('d2', new Map([['t-A1', 1_000]]), []))).toBeNull();
    expect(reload(null)).toBeNull();
    expect(reload({ deviceId: 'd1', calls: 'x' })).toBeNull();
    expect([...reload({ deviceId: 'd1', calls: [['t-A1', '1000'], ['t-A2', 2_000], 7] })!]).toEqual([['t-A2', 2_000]]);
  });
});

describe('the calls kept and shown', () => {
  it('takes a snapshot call at the time of its call or recall event', () => {
    const recent: RecentCall = { ticket: ticket('A003', S.HT, 'done'), counter: { id: C[1]!, number: 1, name: 'Quầy 1' }, at: '2026-11-24T08:55:00.000+07:00' };
    expect(entryFromRecent(recent)).toEqual({
      ticketId: 't-A003', code: 'A003', serviceId: S.HT, counterId: C[1], counterNumber: 1, counterName: 'Quầy 1', at: at(5), recall: false,
    });
  });

  it('stamps a live recall with its arrival, not with the ticket\'s first calledAt', () => {
    const live: TicketCalled = {
      ticket: { ...ticket('A003', S.HT), calledAt: new Date(at(20)).toISOString() }, counter: { id: C[1]!, number: 1, name: 'Quầy 1' }, recall: true,
      at: new Date(at(1)).toISOString(),
    };
    expect(entryFromLive(live, at(0))).toMatchObject({ code: 'A003', at: at(0), recall: true });
  });

  it('keeps whether the ticket came from a booking or from away, and nothing for a walk-in', () => {
    const slotAt = '2026-11-24T09:00:00.000+07:00';
    const counter = { id: C[1]!, number: 1, name: 'Quầy 1' };
    const booked: TicketCalled = { ticket: { ...ticket('A004', S.HT), booking: { kind: 'slot', slotAt } }, counter, recall: false, at: slotAt };
    expect(entryFromLive(booked, at(0)).booking).toBe('slot');
    const remote: RecentCall = { ticket: { ...ticket('A005', S.HT), booking: { kind: 'remote', slotAt } }, counter, at: slotAt };
    expect(entryFromRecent(remote).booking).toBe('remote');
    expect(entryFromLive({ ticket: ticket('A006', S.HT), counter, recall: false, at: slotAt }, at(0))).not.toHaveProperty('booking');
  });

  it('merges newest first, one entry per ticket (its latest call), within a limit', () => {
    const kept = [call('A002', S.HT, 1, 3), call('A001', S.HT, 1, 10)];
    const snap = [call('B001', S.CT, 3, 5), call('A002', S.HT, 1, 3), call('A001', S.HT, 2, 1)]; // A001 transferred and called again at 2
    const merged = mergeCalls(kept, snap);
    expect(merged.map((c) => `${c.code}@${c.counterNumber}`)).toEqual(['A001@2', 'A002@1', 'B001@3']);
    // a recall moves its ticket to the top instead of adding a line
    const recalled = mergeCalls(merged, [call('B001', S.CT, 3, 0, true)]);
    expect(recalled.map((c) => c.code)).toEqual(['B001', 'A001', 'A002']);
    const many = Array.from({ length: KEPT_CALLS + 10 }, (_, i) => call(`A${String(i).padStart(3, '0')}`, S.HT, 1, i));
    expect(mergeCalls([], many)).toHaveLength(KEPT_CALLS);
    expect(mergeCalls([], many, 3).map((c) => c.code)).toEqual(['A000', 'A001', 'A002']);
  });

  it('keeps a zoned display\'s own calls that fell out of the site\'s last few in a new snapshot', () => {
    const mine = call('C004', S.DD, 4, 30);
    const snapshotCalls = Array.from({ length: 8 }, (_, i) => call(`A0${10 + i}`, S.HT, 1, i));
    const merged = mergeCalls([mine], snapshotCalls);
    const board = boardOf({ calls: merged, snapshot: snapshot(), config, zone: { counterIds: [C[4]!] }, now: NOW });
    expect(board.current?.code).toBe('C004');
  });
});

describe('boardOf: what the display shows', () => {
  const calls = [call('A007', S.HT, 1, 1), call('B003', S.CT, 2, 2), call('C002', S.DD, 4, 3), call('A006', S.HT, 2, 4), call('B002', S.CT, 3, 5),
    call('A005', S.HT, 1, 6), call('A004', S.HT, 1, 7), call('A003', S.HT, 2, 8), call('A002', S.HT, 1, 9)];

  it('puts the latest call in the big box and the six before it in the recent calls', () => {
    const board = boardOf({ calls, snapshot: snapshot(), config, zone: null, now: NOW });
    expect(board.current?.code).toBe('A007');
    expect(board.recent.map((c) => c.code)).toEqual(['B003', 'C002', 'A006', 'B002', 'A005', 'A004']);
  });

  it('has nothing in the big box before the first call, and forgets yesterday\'s calls', () => {
    expect(boardOf({ calls: [], snapshot: snapshot(), config, zone: null, now: NOW }).current).toBeNull();
    // 23:59 yesterday in Ho Chi Minh City is 9 h 01 min before 09:00
    const yesterday = [call('A099', S.HT, 1, 9 * 60 + 1)];
    expect(boardOf({ calls: yesterday, snapshot: snapshot(), config, zone: null, now: NOW }).current).toBeNull();
    expect(boardOf({ calls: [call('A001', S.HT, 1, 8 * 60 + 59)], snapshot: snapshot(), config, zone: null, now: NOW }).current?.code).toBe('A001');
  });

  it('shows one row per counter, in number order, with what it calls or serves now', () => {
    const board = boardOf({ calls, snapshot: snapshot(), config, zone: null, now: NOW });
    expect(board.counters.map((c) => [c.number, c.status, c.code, c.prefixes.join('')])).toEqual([
      [1, 'open', 'A007', 'A'], [2, 'open', 'B003', 'AB'], [3, 'paused', null, 'B'], [4, 'closed', null, 'C'],
    ]);
    expect(board.counters[1]!.serves).toEqual([{ vi: 'Tư pháp – Hộ tịch', en: 'Justice' }, { vi: 'Chứng thực', en: 'Certification' }]);
  });

  it('does not show a finished ticket as served', () => {
    const snap = snapshot({ counters: [counterQueue(1, 'open', ticket('A007', S.HT, 'done'))] });
    expect(boardOf({ calls, snapshot: snap, config, zone: null, now: NOW }).counters[0]!.code).toBeNull();
  });

  it('draws the counters from the configuration until a snapshot comes', () => {
    const board = boardOf({ calls: [], snapshot: null, config, zone: null, now: NOW });
    expect(board.counters.map((c) => [c.number, c.code])).toEqual([[1, null], [2, null], [3, null], [4, null]]);
    expect(board.services.map((s) => s.waiting)).toEqual([0, 0, 0]);
  });

  it('gives the waiting count of every service, in the site\'s order', () => {
    const board = boardOf({ calls, snapshot: snapshot(), config, zone: null, now: NOW });
    expect(board.services.map((s) => [s.prefix, s.name.vi, s.waiting])).toEqual([['A', 'Tư pháp – Hộ tịch', 4], ['B', 'Chứng thực', 0], ['C', 'Đất đai', 11]]);
  });

  it('limits everything to the zone', () => {
    const byCounter = boardOf({ calls, snapshot: snapshot(), config, zone: { counterIds: [C[4]!, C[3]!] }, now: NOW });
    expect(byCounter.current?.code).toBe('C002');
    expect(byCounter.recent.map((c) => c.code)).toEqual(['B002']);
    expect(byCounter.counters.map((c) => c.number)).toEqual([3, 4]);
    expect(byCounter.services.map((s) => s.prefix)).toEqual(['B', 'C']);

    const byService = boardOf({ calls, snapshot: snapshot(), config, zone: { serviceIds: [S.CT] }, now: NOW });
    expect(byService.current?.code).toBe('B003');
    expect(byService.recent.map((c) => c.code)).toEqual(['B002']);
    expect(byService.counters.map((c) => c.number)).toEqual([2, 3]);
    expect(byService.services.map((s) => s.prefix)).toEqual(['B']);
  });
});

describe('flashing', () => {
  const current = call('A007', S.HT, 1, 0);

  it(`flashes the call in the big box for ${FLASH_MS} ms after it arrives`, () => {
    const flash = { ticketId: 't-A007', since: 1_000_000, seq: 1 };
    expect(flashLeft(flash, current, 1_000_000)).toBe(FLASH_MS);
    expect(flashLeft(flash, current, 1_000_000 + FLASH_MS - 1)).toBe(1);
    expect(flashLeft(flash, current, 1_000_000 + FLASH_MS)).toBe(0);
    expect(FLASH_MS).toBeGreaterThanOrEqual(3000);
    expect(FLASH_MS).toBeLessThanOrEqual(10_000);
  });

  it('does not flash without a live call, nor for a call that is no longer in the big box', () => {
    expect(flashLeft(null, current, 0)).toBe(0);
    expect(flashLeft({ ticketId: 't-A006', since: 0, seq: 1 }, current, 10)).toBe(0);
    expect(flashLeft({ ticketId: 't-A007', since: 0, seq: 1 }, null, 10)).toBe(0);
  });
});

describe('layout', () => {
  it('puts up to 8 counters in one column, then two, then three', () => {
    expect([1, 6, 8, 9, 16, 17, 30].map(counterColumns)).toEqual([1, 1, 1, 2, 2, 3, 3]);
  });

  it('puts up to 8 services in one row of the waiting strip, then two', () => {
    expect([1, 6, 8, 9, 16].map(serviceRows)).toEqual([1, 1, 1, 2, 2]);
  });
});
