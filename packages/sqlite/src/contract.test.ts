import { afterAll, describe } from 'vitest';
import type { IdempotencyStore } from '@oncely/server';
import { runStoreContractSuite } from '@oncely/server/testing';
import { SqliteStore } from './index.js';
import { tempDatabase } from './test-support.js';

describe('SqliteStore', () => {
  const database = tempDatabase('contract');
  afterAll(() => database.remove());
  const destroyStore = (store: IdempotencyStore) => (store as SqliteStore).close();

  runStoreContractSuite('SqliteStore (WAL)', () => new SqliteStore({ filename: database.filename }), {
    leaseMs: 60,
    destroyStore,
  });
  runStoreContractSuite(
    'SqliteStore (transactional)',
    () => new SqliteStore({ filename: database.filename, transactional: true }),
    { leaseMs: 60, destroyStore },
  );
  runStoreContractSuite(
    'SqliteStore (rollback journal, synchronous normal)',
    () =>
      new SqliteStore({
        filename: database.path('journal.db'),
        journalMode: 'delete',
        synchronous: 'normal',
      }),
    { leaseMs: 60, destroyStore },
  );
});
