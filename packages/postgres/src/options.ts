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
  /**
   * Transactional mode: most handlers holding a pooled connection (their transaction) at once. The rest
   * of the pool stays free for claims, lease extensions and releases, so heartbeats never wait behind
   * held transactions (a lapsed lease lets another instance take the key over). Further handlers wait
   * for a turn, their lease extended meanwhile. At most the pool's `max` − 1.
   * @default the pool's `max` − 2, at least 1
   */
  maxTransactions?: number | undefined;
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
  /** Only meaningful in transactional mode. */
  maxTransactions: number;
}

/** pg's own default for a Pool's `max`. */
const PG_DEFAULT_POOL_MAX = 10;

/** Applies defaults and validates. */
export function normalizePostgresStoreOptions(options: PostgresStoreOptions): ResolvedPostgresStoreOptions {
  const { pool, transactional = false } = options;
  if (typeof pool !== 'object' || pool === null || typeof pool.query !== 'function' || !('connect' in pool)) {
    throw invalidOptionError('pool', pool, 'a pg Pool');
  }
  if (typeof transactional !== 'boolean')
    throw invalidOptionError('transactional', transactional, 'a boolean');
  const configured = (pool as { options?: { max?: unknown } }).options?.max;
  const poolMax = Number.isSafeInteger(configured) ? (configured as number) : PG_DEFAULT_POOL_MAX;
  if (transactional && poolMax < 2) {
    throw invalidOptionError(
      'pool',
      `a Pool with max ${poolMax}`,
      'a pg Pool with `max` of at least 2 in transactional mode (lease extensions need a connection)',
    );
  }
  const { maxTransactions = transactional ? Math.max(1, poolMax - 2) : poolMax } = options;
  // Without transactional mode nothing holds a connection for long: any positive count will do.
  const most = transactional ? poolMax - 1 : Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(maxTransactions) || maxTransactions < 1 || maxTransactions > most) {
    throw invalidOptionError(
      'maxTransactions',
      maxTransactions,
      `an integer from 1 to ${poolMax - 1} (the pool's max minus one)`,
    );
  }
  return { pool, transactional, maxTransactions, ...normalizeTableOptions(options) };
}
