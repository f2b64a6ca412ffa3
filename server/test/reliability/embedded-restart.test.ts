import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { api, startServer, until, type ServerProcess } from './support.ts';

// The server as npm start runs it, on its embedded PostgreSQL: the postmaster gets SIGKILL (a
// crash, the OOM killer). The server notices, says so in its log and in /api/health, starts
// PostgreSQL again by itself, and tickets are issued again; nothing issued before is lost.

let server: ServerProcess | undefined;
let dataDir: string | undefined;
afterAll(async () => {
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('the embedded PostgreSQL dies', () => {
  it('is started again by the server, which says so, and tickets are issued again', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'qms-embedded-restart-'));
    await chmod(dataDir, 0o755); // PostgreSQL runs as user "postgres" when we are root
    server = await startServer({ env: { QMS_DATA_DIR: dataDir, LOG_LEVEL: 'info' } });
    const { url } = server;
    const login = await api(url, 'POST', '/auth/login', undefined, { username: 'admin', password: 'reliability-admin-1' });
    expect(login.status).toBe(200);
    const admin = login.body.token as string;
    const site = await api(url, 'POST', '/sites', admin, { code: 'PG-KILL', name: 'Trung tâm thử' });
    expect(site.status).toBe(201);
    const siteId = site.body.id ?? site.body.site?.id;
    const service = await api(url, 'POST', `/sites/${siteId}/services`, admin, { code: 'HT', name: { vi: 'Hộ tịch', en: 'Civil status' }, prefix: 'A' });
    expect(service.status).toBe(201);
    const serviceId = service.body.id ?? service.body.service?.id;
    const issue = () => api(url, 'POST', `/sites/${siteId}/tickets`, admin, { serviceId }, 5_000);
    const before: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await issue();
      expect(r.status).toBe(201);
      before.push(r.body.ticket.id);
    }
    const health = await api(url, 'GET', '/../health');
    expect(health.body).toMatchObject({ status: 'ok', embeddedPostgres: 'running' });

    const pid = Number((await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    expect(pid).toBeGreaterThan(0);
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');

    // it says so, while it starts it again
    const saw: unknown[] = [];
    const noticed = await until(async () => {
      const h = await api(url, 'GET', '/../health', undefined, undefined, 2_000);
      saw.push(h.body);
      return h.status === 503 && h.body?.embeddedPostgres === 'restarting';
    }, 10_000, 20);
    expect(noticed, JSON.stringify(saw.slice(-3))).toBe(true);
    expect((await api(url, 'GET', '/../health')).body.down).toMatch(/embedded PostgreSQL/);

    // and tickets are issued again, by the same process
    let after: Awaited<ReturnType<typeof issue>> | undefined;
    const back = await until(async () => (after = await issue()).status === 201, 30_000, 200);
    expect(back, JSON.stringify(after)).toBe(true);
    console.log(`embedded PostgreSQL: tickets issued again ${Date.now() - killedAt} ms after its SIGKILL`);
    expect((await api(url, 'GET', '/../health')).body).toMatchObject({ status: 'ok', embeddedPostgres: 'running' });
    for (const id of before) expect((await api(url, 'GET', `/tickets/${id}`, admin)).status).toBe(200);
    expect(server.output()).toMatch(/embedded PostgreSQL: stopped unexpectedly \(SIGKILL\); starting it again/);
    expect(server.output()).toMatch(/embedded PostgreSQL: running again/);
    expect(server.child.exitCode).toBeNull();
  }, 120_000);
});
