import { invalidOptionError } from '@oncely/core';
import type { Pool } from 'pg';

/** Where the records live. */
export interface TableOptions {
  /**
   * Table name; unquoted-identifier characters only (letters, digits, `_`), up to 48 characters.
   * @default 'oncely_idempotency'
   */
  table?: string | undefined;
  /**
   * Schema of the table. The migration creates it when it is not `public`.
   * @default 'public'
   */
  schema?: string | undefined;
}

/** Options of {@link PostgresStore}. */
export interface PostgresStoreOptions extends TableOptions {
  /** The pg `Pool` to use. The store never ends it. */
  pool: Pool;
  /**
   * Transactional mode: the engine runs the handler inside a transaction (reachable with
   * `store.currentTransaction()`) that also completes the record, so business writes and the
   * completed record commit together or not at all. Holds one pooled connection per running handler.
   * @default false
   */
  transactional?: boolean | undefined;
}

/** {@link TableOptions} with defaults applied. */
export interface ResolvedTableOptions {
  table: string;
  schema: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/** Applies table defaults and validates; throws `ERR_ONCELY_INVALID_OPTION` naming the option. */
export function normalizeTableOptions(options: TableOptions = {}): ResolvedTableOptions {
  const { table = 'oncely_idempotency', schema = 'public' } = options;
  if (typeof table !== 'string' || !IDENTIFIER.test(table)) {
    throw invalidOptionError('table', table, 'an identifier of letters, digits and `_` (at most 48)');
  }
  if (typeof schema !== 'string' || !IDENTIFIER.test(schema)) {
    throw invalidOptionError('schema', schema, 'an identifier of letters, digits and `_` (at most 48)');
  }
  return { table, schema };
}

/** {@link PostgresStoreOptions} with defaults applied. */
export interface ResolvedPostgresStoreOptions extends ResolvedTableOptions {
  pool: Pool;
  transactional: boolean;
}

/** Applies defaults and validates. */
export function normalizePostgresStoreOptions(options: PostgresStoreOptions): ResolvedPostgresStoreOptions {
  const { pool, transactional = false } = options;
  if (typeof pool !== 'object' || pool === null || typeof pool.query !== 'function' || !('connect' in pool)) {
    throw invalidOptionError('pool', pool, 'a pg Pool');
  }
  if (typeof transactional !== 'boolean')
    throw invalidOptionError('transactional', transactional, 'a boolean');
  return { pool, transactional, ...normalizeTableOptions(options) };
}
