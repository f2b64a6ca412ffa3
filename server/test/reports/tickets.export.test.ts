import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { QueueService } from '../../src/queue/queue.service.ts';
import { csvField, csvLine } from '../../src/reports/csv.ts';
import { isoInZone } from '../../src/queue/time.ts';
import { streamTicketsCsv, TICKETS_CSV_COLUMNS, zonedIso, type TicketsExportQuery } from '../../src/reports/tickets.export.ts';
import { at, createSite, openCounter, TestClock, type SiteFixture } from '../support/queue-fixture.ts';
import { generateHistory, seededRandom } from './history.generator.ts';

let t: TestDatabase;
let clock: TestClock;
let queue: QueueService;
let site: SiteFixture;
let other: SiteFixture;
let siteCode: string;

const local = (time: string, day = '2026-11-24') => new Date(`${day}T${time}+07:00`);
const RANGE = { from: local('08:00:00'), to: local('12:00:00') };
const SERVICE_NAME = 'Chứng thực, "bản sao" giấy tờ';

/** Minimal RFC 4180 reader, to check what a spreadsheet would see. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { record.push(field); field = ''; } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field); records.push(record); record = []; field = ''; i++;
    } else field += c;
  }
  expect(field === '' && record.length === 0, 'file ends with CRLF').toBe(true);
  return records;
}

async function collect(q: TicketsExportQuery, batchSize?: number): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of streamTicketsCsv(t.db, q, batchSize ? { batchSize } : {})) lines.push(line);
  return lines;
}

const asObjects = (records: string[][]) => records.slice(1).map((r) => Object.fromEntries(TICKETS_CSV_COLUMNS.map((c, i) => [c, r[i]!])));

beforeAll(async () => {
  t = await createTestDatabase();
  clock = new TestClock(local('07:00:00'));
  queue = new QueueService({ db: t.db, clock: clock.now });
  site = await createSite(t.db);
  other = await createSite(t.db);
  siteCode = (await t.db.selectFrom('site').select('code').where('id', '=', site.siteId).executeTakeFirstOrThrow()).code;
  await t.db.updateTable('service').set({ name: JSON.stringify({ vi: SERVICE_NAME, en: 'Certification' }) })
    .where('id', '=', site.service.CT!).execute();
  for (const n of [1, 2, 3]) await openCounter(queue, site, n);
  await openCounter(queue, other, 1);

  const issue = async (time: string, code: string, on = site) => {
    clock.set(new Date(local(time).getTime() - 1)); // issue reads the clock twice and stamps the second
    return (await queue.issue({ siteId: on.siteId, serviceId: on.service[code]! })).value.id;
  };
  const when = async <T>(time: string, work: () => Promise<T>) => { clock.set(local(time)); return work(); };

  await issue('07:59:59.999', 'HT'); // before the range
  const a1 = await issue('08:00:00', 'HT');
  await when('08:01:00', () => queue.callTicket({ ...at(site, 1), ticketId: a1 }));
  await when('08:02:00', () => queue.start({ ...at(site, 1), ticketId: a1 }));
  await when('08:06:00.250', () => queue.finish({ ...at(site, 1), ticketId: a1 }));
  await t.db.insertInto('rating').values({ ticketId: a1, siteId: site.siteId, counterId: site.counter[1]!, staffId: site.staff[0]!, score: 3 }).execute();

  const b1 = await issue('08:10:00', 'CT');
  await when('08:12:30', () => queue.callTicket({ ...at(site, 3), ticketId: b1 }));
  await when('08:13:00', () => queue.transfer({ ...at(site, 3), ticketId: b1, serviceId: site.service.HT! }));
  await when('08:20:00', () => queue.callTicket({ ...at(site, 2), ticketId: b1 }));
  await when('08:25:00', () => queue.finish({ ...at(site, 2), ticketId: b1 }));

  const b2 = await issue('08:30:00', 'CT');
  await when('08:40:00', () => queue.cancel({ ticketId: b2 }));
  await issue('09:00:00', 'CT'); // still waiting
  await issue('09:30:00', 'HT', other); // another site
  await issue('12:00:00', 'HT'); // at `to`: out
}, 60_000);
afterAll(() => t?.drop());

describe('csv fields', () => {
  it('quotes commas, quotes and line breaks, and nothing else', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField(0)).toBe('0');
    expect(csvLine(['x', null, 1.5])).toBe('x,,1.5\r\n');
  });

  it('turns text a spreadsheet would run as a formula into plain text, and leaves numbers alone', () => {
    expect(csvField('=HYPERLINK("http://x","Bấm")')).toBe(`"'=HYPERLINK(""http://x"",""Bấm"")"`);
    expect(csvField('+84 912')).toBe("'+84 912");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('-cmd|calc')).toBe("'-cmd|calc");
    expect(csvField('\t=1')).toBe("'\t=1");
    expect(csvField('-1.5')).toBe('-1.5');
    expect(csvField(-3)).toBe('-3');
    expect(csvField('Một cửa = nhanh')).toBe('Một cửa = nhanh');
  });
});

describe('zonedIso', () => {
  it('formats exactly like isoInZone, across changes of offset too', () => {
    const random = seededRandom(11);
    for (const zone of ['Asia/Ho_Chi_Minh', 'Europe/London', 'America/St_Johns', 'Australia/Lord_Howe', 'Asia/Kathmandu']) {
      const format = zonedIso(zone);
      // every minute (plus a random millisecond) around the 2026 spring and autumn changes, then random instants
      const around = [Date.UTC(2026, 2, 29, 0), Date.UTC(2026, 9, 25, 0), Date.UTC(2026, 3, 5, 14), Date.UTC(2026, 9, 4, 15), Date.UTC(2026, 2, 8, 4), Date.UTC(2026, 10, 1, 3)];
      const instants = around.flatMap((t0) => Array.from({ length: 6 * 60 }, (_, i) => t0 - 3 * 3_600_000 + i * 60_000 + Math.floor(random() * 1000)));
      for (let i = 0; i < 2000; i++) instants.push(Date.UTC(2026, 0, 1) + Math.floor(random() * 365 * 86_400_000));
      for (const ms of instants) expect(format(new Date(ms))).toBe(isoInZone(new Date(ms), zone));
    }
    expect(zonedIso('Asia/Ho_Chi_Minh')(null)).toBeNull();
  });
});

describe('streamTicketsCsv', () => {
  it('starts with the header and writes one CRLF record per ticket issued in the range', async () => {
    const lines = await collect({ siteId: site.siteId, ...RANGE });
    expect(lines[0]).toBe(`${TICKETS_CSV_COLUMNS.join(',')}\r\n`);
    expect(lines.every((l) => l.endsWith('\r\n'))).toBe(true);
    const records = parseCsv(lines.join(''));
    expect(records.length).toBe(1 + 4);
    expect(records.every((r) => r.length === TICKETS_CSV_COLUMNS.length)).toBe(true);
    expect(asObjects(records).map((r) => r.code)).toEqual(['A002', 'B001', 'B002', 'B003']);
  });

  it('writes every timestamp in the site\'s offset with milliseconds, and the durations', async () => {
    const records = asObjects(parseCsv((await collect({ siteId: site.siteId, ...RANGE })).join('')));
    const [a1, b1, b2, b3] = records;
    expect(a1).toEqual({
      site_code: siteCode, code: 'A002', service_code: 'HT', service_name: 'HT', priority: 'none', status: 'done',
      issued_at: '2026-11-24T08:00:00.000+07:00', first_called_at: '2026-11-24T08:01:00.000+07:00',
      called_at: '2026-11-24T08:01:00.000+07:00', started_at: '2026-11-24T08:02:00.000+07:00',
      finished_at: '2026-11-24T08:06:00.250+07:00', counter_number: '1', staff_name: 'Cán bộ 1', transfers: '0',
      wait_seconds: '60', service_seconds: '300.25', estimated_wait_seconds: expect.any(String), rating: '3',
      first_service_code: 'HT', first_counter_number: '1', first_staff_name: 'Cán bộ 1', stints: 'HT:1:60', channel: 'staff',
    });
    // transferred from CT to HT: the first stint's wait, the final call's service time and counter
    expect(b1).toMatchObject({
      code: 'B001', service_code: 'HT', status: 'done', transfers: '1',
      first_called_at: '2026-11-24T08:12:30.000+07:00', called_at: '2026-11-24T08:20:00.000+07:00', started_at: '',
      counter_number: '2', staff_name: 'Cán bộ 2', wait_seconds: '150', service_seconds: '300', rating: '',
      // ...and where it came from: issued for CT, called at counter 3, transferred at 08:13
      first_service_code: 'CT', first_counter_number: '3', first_staff_name: 'Cán bộ 3', stints: 'CT:3:150;HT:2:420',
    });
    expect(b2).toMatchObject({
      status: 'cancelled', first_called_at: '', wait_seconds: '', service_seconds: '', counter_number: '', finished_at: '2026-11-24T08:40:00.000+07:00',
      first_service_code: 'CT', first_counter_number: '', first_staff_name: '', stints: 'CT::',
    });
    expect(b3).toMatchObject({ status: 'waiting', service_name: SERVICE_NAME, finished_at: '', stints: 'CT::' });
    for (const r of records) {
      for (const column of ['issued_at', 'first_called_at', 'called_at', 'started_at', 'finished_at'] as const) {
        expect(r[column]).toMatch(/^$|^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+07:00$/);
      }
    }
  });

  it('quotes a service name holding a comma and quotes (RFC 4180)', async () => {
    const text = (await collect({ siteId: site.siteId, ...RANGE })).join('');
    expect(text).toContain(',"Chứng thực, ""bản sao"" giấy tờ",');
    expect(asObjects(parseCsv(text)).filter((r) => r.service_code === 'CT').map((r) => r.service_name)).toEqual([SERVICE_NAME, SERVICE_NAME]);
  });

  it('writes a service name that starts like a formula as text (CSV injection)', async () => {
    const formula = '=HYPERLINK("http://evil.example","Bấm")';
    const service = () => t.db.updateTable('service').where('siteId', '=', site.siteId).where('code', '=', 'CT');
    await service().set({ name: JSON.stringify({ vi: formula, en: formula }) }).execute();
    try {
      const text = (await collect({ siteId: site.siteId, ...RANGE })).join('');
      expect(text).not.toContain(',"=HYPERLINK');
      expect(asObjects(parseCsv(text)).filter((r) => r.service_code === 'CT').map((r) => r.service_name)).toEqual([`'${formula}`, `'${formula}`]);
    } finally {
      await service().set({ name: JSON.stringify({ vi: SERVICE_NAME, en: 'Certification' }) }).execute();
    }
  });

  it('exports every site, one after the other, when no site is given', async () => {
    const records = asObjects(parseCsv((await collect({ siteId: null, ...RANGE })).join('')));
    expect(records.length).toBe(5);
    expect(new Set(records.map((r) => r.site_code)).size).toBe(2);
  });

  it('refuses a reversed range and an unknown site before writing anything', async () => {
    await expect(collect({ siteId: site.siteId, from: RANGE.to, to: RANGE.from })).rejects.toMatchObject({ code: 'INVALID_RANGE' });
    await expect(collect({ siteId: '00000000-0000-4000-8000-000000000000', ...RANGE })).rejects.toMatchObject({ code: 'SITE_NOT_FOUND' });
  });

  it('pages through a long history in small batches without losing or repeating a ticket, ties included', async () => {
    const big = await createSite(t.db);
    await generateHistory(t.db, [{ fixture: big, timezone: 'Asia/Ho_Chi_Minh', scale: [3, 2, 1] }], seededRandom(7),
      { tickets: 300, start: local('00:00:00', '2026-12-01'), days: 2 });
    const range = { siteId: big.siteId, from: local('00:00:00', '2026-12-01'), to: local('12:00:00', '2026-12-02') };
    const inRange = await t.db.selectFrom('ticket').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('siteId', '=', big.siteId).where('issuedAt', '>=', range.from).where('issuedAt', '<', range.to).executeTakeFirstOrThrow();
    const ties = await t.db.selectFrom('ticket').select('issuedAt').where('siteId', '=', big.siteId)
      .groupBy('issuedAt').having((eb) => eb.fn.countAll(), '>', 1).execute();
    expect(ties.length).toBeGreaterThan(0);

    const paged = await collect(range, 7);
    const whole = await collect(range, 100_000);
    expect(paged.length).toBe(1 + Number(inRange.n));
    expect(paged).toEqual(whole);
    expect(new Set(paged).size).toBe(paged.length); // codes are unique, so records are too

    // A page is read at once and then formatted record by record: the export gives the event
    // loop a turn every hundred records, so that calls never wait behind a whole page. An
    // immediate set at the first record runs before the 102nd (one page of 1000 here).
    expect(paged.length).toBeGreaterThan(150);
    let read = 0;
    let turnAt: number | undefined;
    for await (const line of streamTicketsCsv(t.db, range, { batchSize: 1000 })) {
      void line;
      read++;
      if (read === 2) setImmediate(() => { turnAt = read; }); // the first record (after the header)
    }
    expect(turnAt, 'records formatted before the event loop had a turn').toBeDefined();
    expect(turnAt!).toBeLessThanOrEqual(2 + 100);
  });
});
