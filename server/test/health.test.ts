import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { buildApp, type App } from '../src/app.ts';

let t: TestDatabase;
let app: App;
beforeAll(async () => {
  t = await createTestDatabase();
  app = await buildApp({ db: t.db });
});
afterAll(async () => {
  await app?.close();
  await t?.drop();
});

describe('GET /api/health', () => {
  it('answers ok with the version when the database is reachable', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', version: expect.stringMatching(/^\d+\.\d+\.\d+/), db: 'ok', dayEnd: 'ok' });
  });

  it('answers 503 when the database is gone, without crashing', async () => {
    const broken = await createTestDatabase();
    const other = await buildApp({ db: broken.db, serveUi: false });
    await broken.drop();
    const res = await other.inject({ method: 'GET', url: '/api/health' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'degraded', db: 'unreachable' });
    await other.close();
  });
});

describe('screens', () => {
  it.each(['kiosk', 'display', 'counter', 'rating', 'manage'])('serves the built %s app, with client-side routes', async (screen) => {
    const index = await app.inject({ method: 'GET', url: `/${screen}/` });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toMatch(/text\/html/);
    expect(index.body).toContain(`/${screen}/assets/`);
    const deep = await app.inject({ method: 'GET', url: `/${screen}/some/deep/route` });
    expect(deep.statusCode).toBe(200);
    expect(deep.body).toBe(index.body);
    const bare = await app.inject({ method: 'GET', url: `/${screen}` });
    expect(bare.statusCode).toBe(302);
  });
});
