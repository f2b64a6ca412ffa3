import net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFixture, type ApiFixture } from '../support/api-fixture.ts';
import { RELIABILITY } from './support.ts';

// Hostile input on every route (app.inject, in-process): fast-check generates path params,
// query strings, bodies and headers — wrong types, huge strings, unicode, SQL fragments,
// prototype-pollution keys, broken JSON, wrong content types, forged tokens — next to the
// real credentials and ids of the fixture. For every request: never a 5xx, never a stack
// trace, and a request that was refused (4xx) changed nothing: the content of every table is
// hashed before and after it. Then memory: heap and RSS stay bounded over thousands more.

// Nothing may leave this machine: a printer address set by a fuzzed request (PUT
// /devices/:id/printer) would otherwise be dialled (and its name looked up). Every outgoing
// TCP connection of this process to anything but loopback goes to a closed local port instead.
const redirected: string[] = [];
const realConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
  const first = args[0];
  const options = (typeof first === 'object' && first !== null && !Array.isArray(first) ? first : undefined) as net.TcpSocketConnectOpts | undefined;
  const host = options ? options.host : typeof args[1] === 'string' ? args[1] : undefined;
  const isPath = options ? 'path' in (options as object) : typeof first === 'string' && Number.isNaN(Number(first));
  if (!isPath && host !== undefined && !['127.0.0.1', 'localhost', '::1'].includes(host)) {
    redirected.push(host);
    return (realConnect as (...a: unknown[]) => net.Socket).call(this, { ...(options ?? {}), host: '127.0.0.1', port: 9 }, ...args.slice(options ? 1 : 2).filter((a) => typeof a === 'function'));
  }
  return (realConnect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;

let f: ApiFixture;
let tables: string[];
const failures: string[] = [];
let requests = 0;

interface Route {
  method: string;
  path: string; // fastify form: /api/v1/sites/:siteId
  params: string[];
  bodyKeys: string[];
  bodySchema: JsonSchema | undefined;
  queryKeys: string[];
  hasBody: boolean;
}

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

/** Values the schema accepts (mostly): they carry a request past validation into the routes. */
function validValue(schema: JsonSchema | undefined, ids: string[], depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return fc.constant(null);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives?.length) return fc.oneof(...alternatives.map((x) => validValue(x, ids, depth + 1)));
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum?.length) return fc.constantFrom(...schema.enum);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string': {
      if (schema.format === 'uuid') return fc.constantFrom(...ids);
      const max = Math.min(schema.maxLength ?? 24, 24);
      const min = Math.min(schema.minLength ?? 0, max);
      if (schema.pattern) {
        const re = new RegExp(schema.pattern);
        return fc.stringMatching(re).filter((v) => v.length >= min && v.length <= (schema.maxLength ?? 1000));
      }
      return fc.string({ minLength: min, maxLength: max, unit: 'grapheme' });
    }
    case 'integer':
      return fc.integer({ min: Math.max(schema.minimum ?? -5, -1000), max: Math.min(schema.maximum ?? 100, 100_000) });
    case 'number':
      return fc.double({ min: schema.minimum ?? -5, max: schema.maximum ?? 100, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(validValue(schema.items, ids, depth + 1), { maxLength: 3 });
    case 'object': {
      const props = schema.properties ?? {};
      if (!Object.keys(props).length) return fc.constant({});
      return fc.record(Object.fromEntries(Object.entries(props).map(([k, v]) => [k, validValue(v, ids, depth + 1)])),
        { requiredKeys: (schema.required ?? []).filter((k) => k in props) });
    }
    default:
      return fc.constant(null);
  }
}

async function routesOf(app: ApiFixture['app']): Promise<Route[]> {
  await app.ready();
  const doc = app.swagger() as { paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; requestBody?: { content?: Record<string, { schema?: unknown }> } }>> };
  const routes: Route[] = [];
  for (const [p, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = (op.parameters ?? []).filter((x) => x.in === 'path').map((x) => x.name);
      const queryKeys = (op.parameters ?? []).filter((x) => x.in === 'query').map((x) => x.name);
      const schema = op.requestBody?.content?.['application/json']?.schema as JsonSchema | undefined;
      routes.push({ method: method.toUpperCase(), path: p.replace(/\{(\w+)\}/g, ':$1'), params, queryKeys, bodyKeys: Object.keys(schema?.properties ?? {}), bodySchema: schema, hasBody: !!op.requestBody });
    }
  }
  if (!routes.some((r) => r.path === '/t/:publicId')) routes.push({ method: 'GET', path: '/t/:publicId', params: ['publicId'], queryKeys: ['lang'], bodyKeys: [], bodySchema: undefined, hasBody: false });
  // what ends sessions or devices goes last, so the other routes meet live credentials
  const last = (r: Route) => (r.path.endsWith('/logout') ? 2 : r.method === 'DELETE' ? 1 : 0);
  return routes.sort((a, b) => last(a) - last(b) || a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}

/** One md5 over the content of every table: a refused request must leave it unchanged. */
async function stateHash(): Promise<string> {
  const parts = tables.map((t) => sql`SELECT ${t}::text || ':' || md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) AS h FROM ${sql.table(t)} x`);
  const { rows } = await sql<{ h: string }>`SELECT md5(string_agg(h, '|' ORDER BY h)) AS h FROM (${sql.join(parts, sql` UNION ALL `)}) s`.execute(f.t.db);
  return rows[0]!.h;
}

const SQLISH = ["' OR 1=1 --", "'; DROP TABLE ticket; --", '" OR ""="', '1; SELECT pg_sleep(5)', '$1', '%', '_', '\\', "\\'", 'NULL', 'null', 'undefined',
  '\u0000', '%00', '../../../etc/passwd', '${7*7}', '{{7*7}}', '<script>alert(1)</script>', 'Nguyễn Thị Ánh Tuyết', 'ĐĂNG KÝ KHAI SINH', '🙂🙃💥',
  '\u202e\u0041', 'ǅ', 'ＡＢＣ', '__proto__', 'constructor', 'prototype', 'NaN', 'Infinity', '-1', '1e309', '0x10', '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff', 'A'.repeat(5000), 'ư'.repeat(3000)];
const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(...SQLISH),
  fc.uuid(),
  fc.string({ minLength: 20_000, maxLength: 20_000, unit: fc.constantFrom('a', 'ấ', '😀') }),
);
const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];

function bodyArb(route: Route, ids: string[]) {
  const key = fc.oneof(fc.constantFrom(...POLLUTION_KEYS), fc.string({ maxLength: 12 }), ...(route.bodyKeys.length ? [fc.constantFrom(...route.bodyKeys)] : []));
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true },
      hostileString, fc.constantFrom(...ids), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom(1, 2, 3, 0, -1, 2 ** 53, 1e308),
      fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(key, tie('value'), { maxKeys: 4 })),
  }));
  const shaped = route.bodyKeys.length
    ? fc.record(Object.fromEntries(route.bodyKeys.map((k) => [k, value])), { requiredKeys: [] })
    : fc.constant({});
  const withExtra = fc.tuple(shaped, fc.dictionary(key, value, { maxKeys: 3 })).map(([a, b]) => ({ ...a, ...b }));
  const valid = validValue(route.bodySchema ?? { type: 'object' }, ids);
  // a valid body with one field (or one extra key) made hostile
  const oneBad = fc.tuple(valid, key, value).map(([v, k, bad]) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? { ...v, [k]: bad } : bad));
  const json = fc.oneof(
    { weight: 3, arbitrary: valid }, { weight: 3, arbitrary: oneBad }, { weight: 1, arbitrary: shaped }, { weight: 1, arbitrary: withExtra }, { weight: 1, arbitrary: value },
  ).map((v) => JSON.stringify(v) ?? 'null');
  const raw = fc.constantFrom(
    '{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}', '{"a":1,"__proto__":{"isAdmin":true}}',
    '{', '{"a":', 'nul', '[]', '[{}]', '""', '0', '"\\ud800"', '{"a":"\\u0000"}', '{"a":1}'.repeat(3), `{"x":"${'y'.repeat(70_000)}"}`, '\u0000\u0001', '',
  );
  return fc.oneof({ weight: 3, arbitrary: json }, { weight: 1, arbitrary: raw }, { weight: 1, arbitrary: fc.constant(undefined) });
}

const printable = (s: string) => s.replace(/[^\t\x20-\x7e]/g, '?');

function requestArb(route: Route, ids: string[], tokens: string[]) {
  const param = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...ids) }, { weight: 2, arbitrary: hostileString });
  const params = fc.tuple(...route.params.map(() => param), fc.boolean());
  const auth = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...tokens).map((t) => `Bearer ${t}`) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: hostileString.map((s) => printable(`Bearer ${s}`)) },
    { weight: 1, arbitrary: fc.constantFrom(...tokens).map((t) => `Bearer ${t.slice(0, -1)}x`) },
    { weight: 1, arbitrary: fc.constantFrom('Basic YWRtaW46YWRtaW4=', 'Bearer', 'Bearer  ', 'bearer qs_', `Bearer qs_${'a'.repeat(500)}`, 'Bearer qd_\' OR 1=1 --') },
  );
  const contentType = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
    { weight: 2, arbitrary: fc.constantFrom(undefined, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x',
      'application/json; charset=utf-16', 'application/xml', '*/*', 'application/json, text/plain', 'APPLICATION/JSON', 'application/json;;') },
  );
  const query = fc.option(fc.dictionary(fc.constantFrom(...route.queryKeys, 'x', '__proto__', 'constructor[prototype][x]', 'a[]'), hostileString, { maxKeys: 3 }), { nil: undefined });
  const headers = fc.record({
    authorization: auth,
    'content-type': contentType,
    cookie: fc.option(hostileString.map((s) => `qms_session=${encodeURIComponent(s)}`), { nil: undefined }),
    'accept-language': fc.option(hostileString.map(printable), { nil: undefined }),
    'x-forwarded-for': fc.option(fc.constantFrom('1.2.3.4', "'; DROP TABLE ticket; --", '::1, 10.0.0.1'), { nil: undefined }),
  }, { requiredKeys: ['authorization', 'content-type'] });
  return fc.record({ params, query, headers, body: route.hasBody || route.method !== 'GET' ? bodyArb(route, ids) : fc.constant(undefined) });
}

type Generated = ReturnType<typeof requestArb> extends fc.Arbitrary<infer T> ? T : never;

function build(route: Route, g: Generated) {
  const encode = g.params.at(-1) as boolean;
  let url = route.path;
  route.params.forEach((name, i) => {
    const v = String(g.params[i]);
    url = url.replace(`:${name}`, encode ? encodeURIComponent(v) : v.replace(/[?#]/g, encodeURIComponent));
  });
  if (g.query) url += `?${new URLSearchParams(g.query).toString()}`;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(g.headers)) if (v !== undefined) headers[k] = v;
  return { method: route.method as 'GET', url, headers, ...(g.body !== undefined ? { payload: g.body } : {}) };
}

async function send(route: Route, g: Generated, checkState: boolean): Promise<number> {
  const req = build(route, g);
  const before = checkState ? await stateHash() : '';
  let res;
  try {
    res = await f.app.inject(req);
  } catch (error) {
    // light-my-request refuses what no HTTP client could send (e.g. a malformed URL): not the server's doing
    if (/Invalid|ERR_/.test(String(error))) return 0;
    throw error;
  }
  requests++;
  const body = res.body;
  const describe = () => `${req.method} ${req.url.slice(0, 200)} headers=${JSON.stringify(req.headers).slice(0, 300)} body=${String(req.payload ?? '').slice(0, 300)} -> ${res.statusCode} ${body.slice(0, 300)}`;
  if (res.statusCode >= 500) failures.push(`5xx: ${describe()}`);
  if (/\n\s+at .+:\d+:\d+|node_modules\/|\/server\/src\//.test(body)) failures.push(`stack trace or path in the reply: ${describe()}`);
  if (checkState && res.statusCode >= 400 && res.statusCode < 500 && (await stateHash()) !== before) failures.push(`refused but changed the database: ${describe()}`);
  return res.statusCode;
}

beforeAll(async () => {
  f = await apiFixture();
  await f.t.db.deleteFrom('openingHours').execute(); // open at all hours: issuing reaches the engine
  const { rows } = await sql<{ name: string }>`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'kysely%' AND table_name <> 'socket_io_attachments'
    ORDER BY table_name`.execute(f.t.db);
  tables = rows.map((r) => r.name);
}, 60_000);

afterAll(async () => {
  net.Socket.prototype.connect = realConnect;
  await f?.app.close();
  await f?.t.drop();
});

function knownIds(): string[] {
  return [f.siteId, f.otherSiteId, ...Object.values(f.services), ...Object.values(f.counters), ...Object.values(f.deviceIds), ...Object.values(f.userIds)];
}

describe('hostile input on every route', () => {
  it('never answers 5xx, and a refused request changes nothing', async () => {
    // some tickets, so ticket routes meet real ids in every state
    const issue = (serviceId: string) => f.app.inject({ method: 'POST', url: `/api/v1/sites/${f.siteId}/tickets`, headers: { authorization: `Bearer ${f.tokens.kiosk}` }, payload: { serviceId } });
    const tickets: { id: string; publicId: string }[] = [];
    for (const s of Object.values(f.services).slice(0, 3)) for (let i = 0; i < 3; i++) tickets.push((await issue(s)).json().ticket);
    await f.app.inject({ method: 'POST', url: `/api/v1/counters/${f.counters[1]}/open`, headers: { authorization: `Bearer ${f.tokens.staff}` } });
    await f.app.inject({ method: 'POST', url: `/api/v1/counters/${f.counters[1]}/call-next`, headers: { authorization: `Bearer ${f.tokens.staff}` } });
    const ids = [...knownIds(), ...tickets.flatMap((t) => [t.id, t.publicId])];
    const tokens = Object.values(f.tokens);

    const routes = await routesOf(f.app);
    expect(routes.length).toBeGreaterThan(30);
    const numRuns = Number(process.env.QMS_FUZZ_RUNS ?? (RELIABILITY ? 300 : 30));
    // the hash sees changes (a sanity check of the check)
    const h0 = await stateHash();
    await issue(Object.values(f.services)[0]!);
    expect(await stateHash()).not.toBe(h0);
    expect(tables.length).toBeGreaterThan(10);
    const statuses: Record<number, number> = {};
    for (const route of routes) {
      await fc.assert(fc.asyncProperty(requestArb(route, ids, tokens), async (g) => {
        const before = failures.length;
        const status = await send(route, g, true);
        statuses[status] = (statuses[status] ?? 0) + 1;
        return failures.length === before;
      }), { numRuns, seed: Number(process.env.QMS_FUZZ_SEED ?? 20261124) + routes.indexOf(route), endOnFailure: !RELIABILITY });
    }
    expect(failures).toEqual([]);
    console.log(`fuzz: ${requests} requests over ${routes.length} routes, statuses ${JSON.stringify(statuses)}${redirected.length ? `, ${redirected.length} outgoing connections kept on 127.0.0.1` : ''}`);

    // nothing was polluted, in this process or in what was stored
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
    const stored = await sql<{ n: number }>`
      SELECT (SELECT count(*) FROM site WHERE settings::text LIKE '%proto%' OR settings::text LIKE '%"constructor"%')
           + (SELECT count(*) FROM device WHERE settings::text LIKE '%proto%' OR settings::text LIKE '%"constructor"%') AS n`.execute(f.t.db);
    expect(Number(stored.rows[0]!.n)).toBe(0);
    // and the server still serves
    expect((await f.app.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(200);
  }, RELIABILITY ? 1_800_000 : 240_000);

  // The random requests above seldom put one hostile value into one field of a request that is
  // otherwise right (right caller, real ids, valid body): that is where a NUL reached PostgreSQL
  // as a 500. So every field of every route, in turn, gets each kind of hostile value inside a
  // request that, left alone, goes as deep as the route goes for some caller.
  it('sweeps every field of every route with each kind of hostile value', async () => {
    const issue = (serviceId: string) => f.app.inject({ method: 'POST', url: `/api/v1/sites/${f.siteId}/tickets`, headers: { authorization: `Bearer ${f.tokens.kiosk}` }, payload: { serviceId } });
    const ticket = (await issue(f.services.HT!)).json().ticket as { id: string; publicId: string };
    const alert = await f.app.inject({ method: 'POST', url: '/api/v1/alerts/criticism', headers: { authorization: `Bearer ${f.tokens.kiosk}` }, payload: { comment: 'quét' } });
    const byName: Record<string, string> = {
      siteId: f.siteId, serviceId: f.services.CT!, counterId: f.counters[3]!, deviceId: f.deviceIds.display!, userId: f.userIds.canbo2!,
      ticketId: ticket.id, publicId: ticket.publicId, alertId: alert.json().alert?.id ?? f.siteId,
    };
    const idFor = (key: string) => byName[key] ?? (/counter/i.test(key) ? byName.counterId! : /service/i.test(key) ? byName.serviceId! : f.siteId);
    const fill = (schema: JsonSchema | undefined, key: string, depth = 0): unknown => {
      if (!schema || depth > 4) return null;
      const alternatives = schema.anyOf ?? schema.oneOf;
      if (alternatives?.length) return fill(alternatives[0], key, depth + 1);
      if (schema.const !== undefined) return schema.const;
      if (schema.enum?.length) return schema.enum[0];
      const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
      if (type === 'string') {
        if (schema.format === 'uuid') return idFor(key);
        if (schema.format === 'date-time') return '2026-11-24T08:00:00+07:00';
        if (schema.pattern) return fc.sample(fc.stringMatching(new RegExp(schema.pattern)).filter((v) => v.length >= (schema.minLength ?? 0) && v.length <= (schema.maxLength ?? 100)), { numRuns: 1, seed: 3 })[0];
        return 'Mẫu thử'.padEnd(schema.minLength ?? 0, 'x').slice(0, schema.maxLength ?? 100);
      }
      if (type === 'integer' || type === 'number') return schema.minimum ?? 1;
      if (type === 'boolean') return true;
      if (type === 'array') return [fill(schema.items, key, depth + 1)];
      if (type === 'object') {
        return Object.fromEntries(Object.entries(schema.properties ?? {}).filter(([k]) => (schema.required ?? []).includes(k)).map(([k, v]) => [k, fill(v, k, depth + 1)]));
      }
      return null;
    };
    const deep = (n: number): unknown => (n ? [deep(n - 1)] : 'x');
    const allValues = (schema: JsonSchema | undefined): unknown[] => [
      'a\u0000b', 'Hộ tịch'.normalize('NFD'), '\u202eevil\u202c', '\ud800', '\u0001\u001f\u007f', '', 'x'.repeat(60_000),
      ...(schema?.maxLength !== undefined ? ['ư'.repeat(schema.maxLength + 1)] : []),
      ...(schema?.minimum !== undefined ? [schema.minimum - 1] : []), ...(schema?.maximum !== undefined ? [schema.maximum + 1] : []),
      12345, -1, 0.5, 1e308, 2 ** 53 + 1, true, null, [], {}, { nested: { x: 1 } }, deep(40),
    ];
    // npm test: the kinds that found bugs and their neighbours; QMS_RELIABILITY=1: all of them
    const quick = new Set<unknown>(['a\u0000b', 'Hộ tịch'.normalize('NFD'), '\u202eevil\u202c', 'x'.repeat(60_000), 12345, null, {}]);
    const valuesFor = (schema: JsonSchema | undefined) => allValues(schema).filter((v) => RELIABILITY || quick.has(v) || typeof v === 'object');
    const rank = (status: number) => (status < 300 ? 0 : status === 409 ? 1 : status === 404 ? 2 : status === 400 ? 3 : status === 403 ? 4 : 5);
    const credentials = [f.tokens.admin, f.tokens.manager, f.tokens.staff2, f.tokens.kiosk, f.tokens.display, f.tokens.counterDevice, f.tokens.rating, undefined];

    const routes = (await routesOf(f.app)).filter((r) => !r.path.endsWith('/logout'));
    let fields = 0;
    let swept = 0;
    const statuses: Record<number, number> = {};
    const t0 = Date.now();
    for (const route of routes) {
      const params = route.params.map((p) => idFor(p));
      const baseBody = route.hasBody ? (fill(route.bodySchema ?? { type: 'object' }, '') as Record<string, unknown>) : undefined;
      const query: Record<string, string> = {};
      const asGenerated = (token: string | undefined, p: unknown[], q: Record<string, string> | undefined, body: unknown): Generated => ({
        params: [...p, true] as Generated['params'],
        query: q && Object.keys(q).length ? q : undefined,
        headers: { authorization: token ? `Bearer ${token}` : undefined, 'content-type': 'application/json' } as Generated['headers'],
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (route.path.includes('/reports/')) Object.assign(query, { from: '2026-11-01T00:00:00+07:00', to: '2026-12-01T00:00:00+07:00' });
      // the caller that gets deepest into the route; DELETEs are not tried for real (they would
      // take away the fixture's devices and accounts): the site's manager sends them
      let token: string | undefined = f.tokens.manager;
      if (route.method !== 'DELETE') {
        let best = 99;
        for (const candidate of credentials) {
          const status = await send(route, asGenerated(candidate, params, query, baseBody), false);
          if (rank(status) < best) [best, token] = [rank(status), candidate];
          if (best === 0) break;
        }
      }
      const variants: Generated[] = [];
      for (const [i, name] of route.params.entries()) {
        for (const v of valuesFor({ type: 'string', format: 'uuid' })) variants.push(asGenerated(token, params.map((p, j) => (j === i ? (typeof v === "string" ? v : JSON.stringify(v)) : p)), query, baseBody));
        fields++;
        void name;
      }
      for (const key of route.queryKeys) {
        for (const v of valuesFor(undefined)) variants.push(asGenerated(token, params, { ...query, [key]: typeof v === 'string' ? v : JSON.stringify(v) }, baseBody));
        fields++;
      }
      const props = Object.entries(route.bodySchema?.properties ?? {});
      for (const [key, schema] of props) {
        for (const v of valuesFor(schema)) variants.push(asGenerated(token, params, query, { ...baseBody, [key]: v }));
        fields++;
        // one level down (a name's vi and en, say)
        for (const [inner, innerSchema] of Object.entries(schema.properties ?? {})) {
          const whole = (fill(schema, key) ?? {}) as Record<string, unknown>;
          for (const v of valuesFor(innerSchema)) variants.push(asGenerated(token, params, query, { ...baseBody, [key]: { ...whole, [inner]: v } }));
          fields++;
        }
      }
      for (const g of variants) {
        const status = await send(route, g, true);
        statuses[status] = (statuses[status] ?? 0) + 1;
        swept++;
      }
    }
    console.log(`fuzz sweep: ${swept} requests over ${fields} fields of ${routes.length} routes in ${((Date.now() - t0) / 1000).toFixed(0)} s, statuses ${JSON.stringify(statuses)}`);
    expect(fields).toBeGreaterThan(100);
    expect(failures).toEqual([]);
  }, RELIABILITY ? 1_800_000 : 300_000);

  it('keeps its memory bounded over thousands of hostile requests', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const routes = await routesOf(f.app);
    const ids = knownIds();
    const tokens = Object.values(f.tokens);
    const batch = RELIABILITY ? 5000 : 1500;
    const samples = routes.map((r) => fc.sample(requestArb(r, ids, tokens), { numRuns: Math.ceil(batch / routes.length), seed: 7 }));
    const measure = () => {
      gc();
      gc();
      return { heap: process.memoryUsage().heapUsed / 2 ** 20, rss: process.memoryUsage().rss / 2 ** 20 };
    };
    const round = async () => {
      for (const [i, route] of routes.entries()) for (const g of samples[i]!) await send(route, g, false);
    };
    await round(); // warm-up: caches, JIT, pools
    const first = measure();
    await round();
    await round();
    const last = measure();
    console.log(`fuzz memory: after warm-up heap ${first.heap.toFixed(1)} MB rss ${first.rss.toFixed(1)} MB; after ${2 * batch} more requests heap ${last.heap.toFixed(1)} MB rss ${last.rss.toFixed(1)} MB`);
    expect(failures).toEqual([]);
    expect(last.heap - first.heap).toBeLessThan(20);
    expect(last.rss - first.rss).toBeLessThan(80);
  }, RELIABILITY ? 1_800_000 : 240_000);
});
