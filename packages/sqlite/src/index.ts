export { SqliteStore } from './sqlite-store.js';
export type { SqliteStoreOptions } from './options.js';
export { SqliteStoreError, SqliteStoreErrorCode, isSqliteStoreError } from './errors.js';
