import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore, migrate, migrationSql } from './index.js';
import { DATABASE_URL, postgresUnavailableReason, uniqueTable } from './test-support.js';

const skipReason = await postgresUnavailableReason();
if (skipReason !== undefined) console.warn(`Skipping migration tests: ${skipReason}.`);

describe('migrationSql', () => {
  it('prints one transaction of idempotent statements for the given table', () => {
    const sql = migrationSql({ schema: 'billing', table: 'idem' });
    expect(sql.startsWith('BEGIN;')).toBe(true);
    expect(sql.trimEnd().endsWith('COMMIT;')).toBe(true);
    expect(sql).toContain('CREATE SCHEMA IF NOT EXISTS "billing"');
    expect(sql).toContain('CREATE TABLE IF NOT EXISTS "billing"."idem"');
    expect(sql).toContain('pg_advisory_xact_lock');
    expect(migrationSql()).not.toContain('CREATE SCHEMA');
    expect(() => migrationSql({ table: 'bad-name' })).toThrow(/Invalid option `table`/);
  });
});

describe.skipIf(skipReason !== undefined)('migrate on a real PostgreSQL', () => {
  const schema = uniqueTable('schema');
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 6 });
  });
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('is idempotent and safe to run from many instances at once', async () => {
    await Promise.all(Array.from({ length: 6 }, () => migrate(pool, { schema, table: 'records' })));
    await migrate(pool, { schema, table: 'records' });
    const store = new PostgresStore({ pool, schema, table: 'records' });
    expect(await store.claim({ key: 'k', fingerprint: 'f', leaseMs: 1000, ttlMs: 1000 })).toMatchObject({
      outcome: 'claimed',
    });
  });

  it('runs the printed SQL as is', async () => {
    await pool.query(migrationSql({ schema, table: 'printed' }));
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'printed'`,
      [schema],
    );
    expect(rows[0]?.n).toBe(1);
  });
});
