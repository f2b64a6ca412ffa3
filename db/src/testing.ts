import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { statFields } from './backend-nice.ts';
import { createDb, type Db } from './connection.ts';

// The test runner's global setup (vitest.global-setup.ts) starts a PostgreSQL, migrates a
// template database once and publishes these two variables for every test process.
export const TEST_ADMIN_URL_ENV = 'QMS_TEST_ADMIN_URL';
export const TEST_TEMPLATE_ENV = 'QMS_TEST_TEMPLATE';

export interface TestDatabase {
  db: Db;
  url: string;
  name: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fresh database cloned from the migrated template: isolated, no cleaning needed. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env[TEST_ADMIN_URL_ENV];
  const template = process.env[TEST_TEMPLATE_ENV];
  if (!adminUrl || !template) {
    throw new Error(`${TEST_ADMIN_URL_ENV} is not set: run tests through vitest (npm test), whose global setup starts the database`);
  }
  const name = `qms_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${admin.escapeIdentifier(template)} STRATEGY FILE_COPY`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  const db = createDb(url, { max: 30, applicationName: 'qms-test' });
  let dropped = false;
  return {
    db,
    url,
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      await db.destroy();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export { withDatabase };

/**
 * What a release fixture (db/test/fixtures, scripts/make-release-fixture.ts) must keep across
 * upgrades: its sites, users, tickets and ratings, each as a line.
 */
export async function releaseFixtureValues(db: Db) {
  return {
    sites: (await db.selectFrom('site').select('code').orderBy('code').execute()).map((s) => s.code),
    users: (await db.selectFrom('appUser').select(['username', 'role']).orderBy('username').execute()).map((u) => `${u.username} ${u.role}`),
    tickets: (await db.selectFrom('ticket').innerJoin('service', 'service.id', 'ticket.serviceId')
      .select(['ticket.code', 'ticket.status', 'service.code as service', 'ticket.priority']).orderBy('ticket.issuedAt').execute())
      .map((x) => `${x.code} ${x.status} ${x.service} ${x.priority}`),
    ratings: (await db.selectFrom('rating').innerJoin('ticket', 'ticket.id', 'rating.ticketId')
      .select(['ticket.code', 'rating.score', 'rating.channel', 'rating.reason']).execute())
      .map((r) => `${r.code} ${r.score} ${r.channel} ${r.reason ?? '-'}`).sort(),
  };
}


/** A process's or thread's process group (field 5). */
export function groupOf(statPath: string): number {
  return Number(statFields(statPath)[2]);
}

/** A process's or thread's nice value (field 19). */
export function niceOf(statPath: string): number {
  return Number(statFields(statPath)[16]);
}

/** Linux's SCHED_IDLE policy number (sched.h), as policyOf reads it. */
export const SCHED_IDLE = 5;

/** A process's or thread's scheduling policy (field 41): 0 SCHED_OTHER, 5 SCHED_IDLE. */
export function policyOf(statPath: string): number {
  return Number(statFields(statPath)[38]);
}

/** The nice value of `pid`'s session (/proc/<pid>/autogroup: "/autogroup-N nice X"); undefined without one. */
export function sessionNiceOf(pid: number): number | undefined {
  try {
    const m = / nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
