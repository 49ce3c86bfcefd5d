export { PostgresStore } from './postgres-store.js';
export type { PostgresStoreOptions, TableOptions } from './options.js';
export { migrate, migrationSql } from './migrate.js';
export type { ReapOptions, ReaperOptions } from './reaper.js';
export { isTransactionalStore } from './transactional.js';
export type {
  ExecuteTransactionally,
  TransactionDecision,
  TransactionOutcome,
  TransactionalIdempotencyStore,
} from './transactional.js';
export { deriveKey } from './derive-key.js';
export { PostgresStoreError, PostgresStoreErrorCode, isPostgresStoreError } from './errors.js';
