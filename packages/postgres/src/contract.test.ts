import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { runStoreContractSuite } from '@oncely/server/testing';
import { PostgresStore, migrate } from './index.js';
import { DATABASE_URL, postgresUnavailableReason, uniqueTable } from './test-support.js';

const skipReason = await postgresUnavailableReason();
if (skipReason !== undefined) console.warn(`Skipping the PostgresStore contract suite: ${skipReason}.`);

describe.skipIf(skipReason !== undefined)('PostgresStore', () => {
  const table = uniqueTable('contract');
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
    await migrate(pool, { table });
  });
  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    await pool.end();
  });
  runStoreContractSuite('PostgresStore on a real PostgreSQL', () => new PostgresStore({ pool, table }), {
    leaseMs: 60,
  });
  runStoreContractSuite(
    'PostgresStore (transactional) on a real PostgreSQL',
    () => new PostgresStore({ pool, table, transactional: true }),
    { leaseMs: 60 },
  );
});
