import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createDb, createPool } from '../src/connection.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

// The queue's statements run as prepared statements, parsed and planned once per connection
// (connection.ts preparedStatements).

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

const preparedOn = (db: ReturnType<typeof createDb>) =>
  sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements`.execute(db).then((r) => r.rows.map((x) => x.statement));

describe('prepared statements', () => {
  it('a parameterised statement is prepared once per connection and reused; one without parameters is not', async () => {
    const db = createDb(t.url, { max: 1 });
    try {
      for (let i = 0; i < 3; i++) {
        const row = await db.selectFrom('site').select('code').where('code', '=', `none-${i}`).executeTakeFirst();
        expect(row).toBeUndefined();
      }
      await sql`SELECT 1`.execute(db);
      const prepared = await preparedOn(db);
      expect(prepared.filter((s) => s.includes('from "site"'))).toHaveLength(1);
      expect(prepared.some((s) => s.trim() === 'SELECT 1')).toBe(false);
    } finally {
      await db.destroy();
    }
  });

  it('prepare: false leaves every statement unnamed', async () => {
    const db = createDb(t.url, { max: 1, prepare: false });
    try {
      await db.selectFrom('site').select('code').where('code', '=', 'x').execute();
      expect(await preparedOn(db)).toEqual([]);
    } finally {
      await db.destroy();
    }
  });

  it('a connection keeps at most 400; the statements after still run', async () => {
    const pool = createPool(t.url, { max: 1 });
    try {
      for (let i = 0; i < 410; i++) {
        const { rows } = await pool.query(`SELECT $1::int + ${i} AS n`, [1]);
        expect(rows[0].n).toBe(1 + i);
      }
      const { rows } = await pool.query('SELECT count(*)::int AS n FROM pg_prepared_statements');
      expect(rows[0].n).toBe(400);
    } finally {
      await pool.end();
    }
  });

  it('a statement that fails to parse is not taken for prepared: fixed, the same text runs', async () => {
    const pool = createPool(t.url, { max: 1 });
    try {
      await pool.query('CREATE TEMP TABLE later (n int)');
      await expect(pool.query('SELECT n FROM later_not_yet WHERE n = $1', [1])).rejects.toThrow(/later_not_yet/);
      await pool.query('CREATE TEMP TABLE later_not_yet (n int)');
      await pool.query('INSERT INTO later_not_yet VALUES (1)');
      const { rows } = await pool.query('SELECT n FROM later_not_yet WHERE n = $1', [1]);
      expect(rows).toEqual([{ n: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it('a table changed after its statement was prepared: the statement still answers', async () => {
    const pool = createPool(t.url, { max: 1 });
    try {
      await pool.query('CREATE TABLE changing (id int PRIMARY KEY, a text)');
      await pool.query("INSERT INTO changing VALUES (1, 'x')");
      const first = await pool.query('SELECT * FROM changing WHERE id = $1', [1]);
      expect(first.rows).toEqual([{ id: 1, a: 'x' }]);
      await pool.query("ALTER TABLE changing ADD COLUMN b text DEFAULT 'y'");
      const again = await pool.query('SELECT * FROM changing WHERE id = $1', [1]);
      expect(again.rows).toEqual([{ id: 1, a: 'x', b: 'y' }]);
    } finally {
      await pool.query('DROP TABLE IF EXISTS changing');
      await pool.end();
    }
  });
});

describe('prepared statements in a transaction', () => {
  it('a table changed under a prepared statement inside a transaction: that transaction fails, the next one works', async () => {
    const pool = createPool(t.url, { max: 1 });
    const client = await pool.connect();
    try {
      await client.query('CREATE TABLE changing2 (id int PRIMARY KEY, a text)');
      await client.query("INSERT INTO changing2 VALUES (1, 'x')");
      await client.query('SELECT * FROM changing2 WHERE id = $1', [1]);
      await client.query("ALTER TABLE changing2 ADD COLUMN b text DEFAULT 'y'");
      await client.query('BEGIN');
      await expect(client.query('SELECT * FROM changing2 WHERE id = $1', [1])).rejects.toThrow(/cached plan/);
      await client.query('ROLLBACK');
      await client.query('BEGIN');
      const again = await client.query('SELECT * FROM changing2 WHERE id = $1', [1]);
      await client.query('COMMIT');
      expect(again.rows).toEqual([{ id: 1, a: 'x', b: 'y' }]);
    } finally {
      await client.query('DROP TABLE IF EXISTS changing2');
      client.release();
      await pool.end();
    }
  });
});
