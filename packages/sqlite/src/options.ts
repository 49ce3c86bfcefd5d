import { invalidOptionError } from '@oncely/core';
import type Database from 'better-sqlite3';

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * Path of the database file; created when missing (its directory must exist). Every process of the
   * host that should see the same records opens the same path. Not `:memory:` (nothing to share, nothing
   * kept: use `MemoryStore`). In transactional mode, point it at your app's own database file so the
   * handler's writes and the records are in one file.
   */
  filename: string;
  /**
   * Table of the records, created on first use; letters, digits and `_`, up to 48 characters.
   * @default 'oncely_idempotency'
   */
  table?: string | undefined;
  /**
   * Transactional mode: the engine runs each handler inside a write transaction (reachable with
   * `store.currentTransaction()`) that also completes the record, so the handler's writes and the
   * completed record commit together or not at all. SQLite has one writer per file: while a handler
   * runs, every other write to the file waits (see the README).
   * @default false
   */
  transactional?: boolean | undefined;
  /**
   * Longest wait, in ms, for another connection's write lock before an operation fails with
   * `ERR_ONCELY_STORE_BUSY` (a 503 from the engine). The store waits asynchronously: the event loop
   * keeps running. Keep it below the engine's `storeTimeout` (2000 by default).
   * @default 1000
   */
  busyTimeout?: number | undefined;
  /**
   * `PRAGMA synchronous` of the store's connections. `'full'` syncs every commit to disk, so a completed
   * record survives a power loss; `'normal'` (in WAL mode) survives a process crash but may lose the last
   * commits on a power loss, and is faster.
   * @default 'full'
   */
  synchronous?: 'full' | 'normal' | undefined;
  /**
   * Journal mode of the file, set on first use. `'wal'` lets readers and the one writer work at once.
   * Use `'delete'` only for transactional mode with `attach`: SQLite commits attached files atomically
   * together only with a rollback journal.
   * @default 'wal'
   */
  journalMode?: 'wal' | 'delete' | undefined;
  /**
   * Other database files to attach on every connection of the store, by schema name
   * (`{ app: '/var/lib/app/app.db' }` lets a transactional handler write `INSERT INTO app.orders …`).
   * @default {}
   */
  attach?: Readonly<Record<string, string>> | undefined;
  /**
   * Called with every connection the store opens, before its first use: register functions, or set
   * per-connection pragmas such as `foreign_keys` (which has no effect once a transaction started).
   * @default undefined
   */
  onConnection?: ((connection: Database.Database) => void) | undefined;
}

/** {@link SqliteStoreOptions} with defaults applied. */
export interface ResolvedSqliteStoreOptions {
  filename: string;
  table: string;
  transactional: boolean;
  busyTimeout: number;
  synchronous: 'full' | 'normal';
  journalMode: 'wal' | 'delete';
  attach: ReadonlyArray<readonly [schema: string, filename: string]>;
  onConnection: ((connection: Database.Database) => void) | undefined;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;
/** Schema names SQLite reserves for its own databases. */
const RESERVED_SCHEMAS = new Set(['main', 'temp']);

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw invalidOptionError(name, value, allowed.map((a) => `'${a}'`).join(' or '));
}

function file(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '' || value === ':memory:' || value.startsWith('file:')) {
    throw invalidOptionError(name, value, 'the path of a database file (not `:memory:` or a URI)');
  }
  return value;
}

function attachments(value: unknown): ResolvedSqliteStoreOptions['attach'] {
  if (value === undefined) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidOptionError('attach', value, 'an object of schema name → database file path');
  }
  return Object.entries(value).map(([schema, path]) => {
    if (!IDENTIFIER.test(schema) || RESERVED_SCHEMAS.has(schema.toLowerCase())) {
      throw invalidOptionError(
        `attach.${schema}`,
        schema,
        'a schema name of letters, digits and `_`, not main or temp',
      );
    }
    return [schema, file(`attach.${schema}`, path)] as const;
  });
}

/** Applies defaults and validates; throws `ERR_ONCELY_INVALID_OPTION` naming the option. */
export function normalizeSqliteStoreOptions(options: SqliteStoreOptions): ResolvedSqliteStoreOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalidOptionError('options', options, 'an object with at least `filename`');
  }
  const { table = 'oncely_idempotency', transactional = false, busyTimeout = 1000, onConnection } = options;
  const filename = file('filename', options.filename);
  if (typeof table !== 'string' || !IDENTIFIER.test(table)) {
    throw invalidOptionError('table', table, 'an identifier of letters, digits and `_` (at most 48)');
  }
  if (typeof transactional !== 'boolean')
    throw invalidOptionError('transactional', transactional, 'a boolean');
  if (typeof busyTimeout !== 'number' || !Number.isSafeInteger(busyTimeout) || busyTimeout < 0) {
    throw invalidOptionError('busyTimeout', busyTimeout, 'a whole number of ms, 0 or more');
  }
  if (onConnection !== undefined && typeof onConnection !== 'function') {
    throw invalidOptionError('onConnection', onConnection, 'a function');
  }
  const synchronous = oneOf('synchronous', options.synchronous, ['full', 'normal'], 'full');
  const journalMode = oneOf('journalMode', options.journalMode, ['wal', 'delete'], 'wal');
  const attach = attachments(options.attach);
  if (transactional && attach.length > 0 && journalMode === 'wal') {
    // https://www.sqlite.org/lang_attach.html: with WAL, a transaction is atomic per file only.
    throw invalidOptionError(
      'journalMode',
      journalMode,
      "'delete' when a transactional store attaches databases (in WAL mode SQLite commits each attached " +
        'file on its own, so a crash could keep the record without your writes)',
    );
  }
  return { filename, table, transactional, busyTimeout, synchronous, journalMode, attach, onConnection };
}
