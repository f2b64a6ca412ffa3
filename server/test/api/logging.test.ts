import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFixture, bearer, listenLocally, type ApiFixture } from '../support/api-fixture.ts';

// The app's own logger (pino, JSON lines) written to a stream the test reads: every line a
// request writes carries its id, and no line carries credentials or a row's values.

let f: ApiFixture;
let base: string;
const lines: Record<string, unknown>[] = [];
const stream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

const PHONE = '0912345678';
const HASH = '$argon2id$v=19$m=65536,t=3,p=4$c2VjcmV0c2FsdA$c2VjcmV0aGFzaA';

beforeAll(async () => {
  f = await apiFixture({ logger: { level: 'info', stream } });
  // a real PostgreSQL error whose detail quotes a row, as a constraint violation's does
  f.app.get('/test/failing-row', async () => {
    await sql.raw(`DO $$ BEGIN RAISE EXCEPTION 'new row violates check constraint' USING DETAIL = 'Failing row contains (${PHONE}, ${HASH})'; END $$`).execute(f.t.db);
  });
  base = await listenLocally(f.app);
});
afterAll(async () => {
  await f?.app.close();
  await f?.t.drop();
});

const logged = (reqId: string) => lines.filter((l) => l.reqId === reqId);

describe('logs', () => {
  it('an error is logged with the request id it came in with, and the response names that id', async () => {
    const res = await fetch(`${base}/test/failing-row`, { headers: { 'x-request-id': 'edge-7f3a_2', ...bearer(f.tokens.staff), cookie: 'qms_session=s3ss10n' } });
    expect(res.status).toBe(500);
    expect(res.headers.get('x-request-id')).toBe('edge-7f3a_2');
    const [line] = logged('edge-7f3a_2');
    expect(line).toMatchObject({ level: 50, msg: 'unexpected error', err: { message: 'new row violates check constraint', code: 'P0001' } });
  });

  it('a request without an id gets a new one, in the response and in its log lines', async () => {
    const res = await fetch(`${base}/test/failing-row`, { headers: { 'x-request-id': 'not a safe id; rm -rf' } });
    const id = res.headers.get('x-request-id')!;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(logged(id)).toHaveLength(1);
    expect(lines.some((l) => l.reqId === 'not a safe id; rm -rf')).toBe(false);
  });

  it('no line carries a token, a cookie, a password, or the values of a row', async () => {
    f.app.log.warn({ token: f.tokens.kiosk, password: 'hunter2-hunter2', user: { password: 'p4ss-p4ss', phone: PHONE }, headers: { authorization: `Bearer ${f.tokens.admin}`, cookie: 'qms_session=s3ss10n' } }, 'redaction check');
    const check = lines.find((l) => l.msg === 'redaction check');
    expect(check).toMatchObject({ token: '[redacted]', password: '[redacted]', user: { password: '[redacted]', phone: '[redacted]' }, headers: { authorization: '[redacted]', cookie: '[redacted]' } });
    expect(logged('edge-7f3a_2')[0]).toMatchObject({ err: { detail: '[redacted]' } });
    const all = lines.map((l) => JSON.stringify(l)).join('\n');
    for (const secret of [PHONE, HASH, 's3ss10n', 'hunter2', 'p4ss-p4ss', f.tokens.staff, f.tokens.kiosk, f.tokens.admin]) expect(all).not.toContain(secret);
  });
});
