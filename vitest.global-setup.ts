// Starts one PostgreSQL for the whole test run and migrates a template database once;
// each test file then clones it (db/src/testing.ts). TEST_DATABASE_URL points at an
// existing server instead (a role allowed to CREATE DATABASE).
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDb, migrateToLatest, startEmbeddedPostgres, type EmbeddedPostgresHandle } from '@qms/db';
import { TEST_ADMIN_URL_ENV, TEST_TEMPLATE_ENV, withDatabase } from '@qms/db/testing';

export default async function setup() {
  let embedded: EmbeddedPostgresHandle | undefined;
  let dir: string | undefined;
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    dir = await mkdtemp(path.join(tmpdir(), 'qms-test-pg-'));
    await chmod(dir, 0o755); // PostgreSQL runs as user "postgres" when we are root
    embedded = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), fast: true, database: 'postgres' });
    adminUrl = embedded.adminUrl;
  }
  const template = `qms_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${template}`);
  await admin.query(`CREATE DATABASE ${template}`);
  const db = createDb(withDatabase(adminUrl, template), { max: 1 });
  await migrateToLatest(db);
  await db.destroy();

  process.env[TEST_ADMIN_URL_ENV] = adminUrl;
  process.env[TEST_TEMPLATE_ENV] = template;

  return async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).catch(() => {});
    await admin.end();
    await embedded?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  };
}
