import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb, migrationNames, migrator, restoreDatabase } from '../src/index.ts';
import { releaseFixtureValues, TEST_ADMIN_URL_ENV, withDatabase } from '../src/testing.ts';

// A database made by each release (a backup of it in fixtures/, made by
// scripts/make-release-fixture.ts) restores into an empty database and migrates to the latest
// schema of this code with all its data.

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const releases = readdirSync(fixtures).filter((f) => /^release-.*\.qmsbackup$/.test(f)).sort();
const databases: string[] = [];
afterAll(async () => {
  const admin = new pg.Client({ connectionString: process.env[TEST_ADMIN_URL_ENV] });
  await admin.connect();
  for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
});

interface Expected {
  release: string;
  rows: Record<string, number>;
  sites: string[];
  users: string[];
  tickets: string[];
  ratings: string[];
}

async function emptyDatabase(suffix: string): Promise<string> {
  const name = `qms_fixture_${process.pid}_${suffix.replaceAll(/\W/g, '_')}`;
  const admin = new pg.Client({ connectionString: process.env[TEST_ADMIN_URL_ENV] });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  databases.push(name);
  return withDatabase(process.env[TEST_ADMIN_URL_ENV]!, name);
}


describe('databases of earlier releases', () => {
  it('there is a fixture of this release line', () => {
    expect(releases).toContain('release-0.1.0.qmsbackup');
  });

  it.each(releases)('%s restores into an empty database and migrates to the latest schema with its data', async (file) => {
    const expected = JSON.parse(await readFile(path.join(fixtures, file.replace(/\.qmsbackup$/, '.json')), 'utf8')) as Expected;
    const url = await emptyDatabase(expected.release);
    const restored = await restoreDatabase(url, path.join(fixtures, file), { latest: true });
    expect(restored.rows).toEqual(expected.rows);

    const db = createDb(url, { max: 1 });
    try {
      expect((await migrator(db).getMigrations()).filter((m) => !m.executedAt)).toEqual([]);
      expect(migrationNames.slice(0, restored.header.migrations.length)).toEqual(restored.header.migrations);
      for (const [table, rows] of Object.entries(expected.rows)) {
        const { rows: [found] } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(db);
        expect({ table, rows: found!.n }).toEqual({ table, rows });
      }
      expect(await releaseFixtureValues(db)).toEqual({ sites: expected.sites, users: expected.users, tickets: expected.tickets, ratings: [...expected.ratings].sort() });
      // the demo officials still sign in with what they had: their password hashes came back
      const hash = await db.selectFrom('appUser').select('passwordHash').where('username', '=', 'canbo1').executeTakeFirst();
      expect(hash?.passwordHash).toMatch(/^\$argon2/);
    } finally {
      await db.destroy();
    }
  });
});
