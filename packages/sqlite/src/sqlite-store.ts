import type {
  ClaimRequest,
  ClaimResult,
  ExecuteTransactionally,
  IdempotencyRecord,
  IdempotencyStore,
  StoredResponse,
} from '@oncely/server';
import { whenUnlocked } from './busy.js';
import { migrate, openConnection, prepare } from './connection.js';
import type { Connection, Statements } from './connection.js';
import { decideClaim, toBlob, toRecord } from './decode.js';
import { noTransactionError, storeError } from './errors.js';
import { normalizeSqliteStoreOptions } from './options.js';
import type { ResolvedSqliteStoreOptions, SqliteStoreOptions } from './options.js';
import { statementSql } from './schema.js';
import type { RecordRow, StatementSql } from './schema.js';
import { Transactions } from './transaction.js';

const STATEMENTS = ['select', 'insert', 'cleanup', 'complete', 'release', 'extend', 'delete'] as const;

/** What the main connection runs, prepared once the table exists. */
interface Prepared extends Statements<(typeof STATEMENTS)[number]> {
  /** The writing half of a claim, in one `BEGIN IMMEDIATE` transaction. */
  claimWrite: (request: ClaimRequest) => ClaimResult;
}

/**
 * Expired records each writing claim deletes, oldest first. Above one per claim, so expired records
 * cannot pile up while claims come in (each adds at most one record).
 */
const CLEANUP_BATCH = 2;

function milliseconds(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`SqliteStore: \`${name}\` must be a positive number of ms, got ${String(value)}.`);
  }
  return Math.ceil(value);
}

/**
 * An {@link IdempotencyStore} in a SQLite file (better-sqlite3, WAL): durable across restarts, shared by
 * the processes of one host, no server.
 *
 * - The table is created on first use (`CREATE TABLE IF NOT EXISTS`, by whichever process comes first).
 * - A claim reads the key without a lock and answers a replay, a mismatch or a live lease from that
 *   read; only a claim that writes takes SQLite's write lock (`BEGIN IMMEDIATE`), reads again and writes.
 * - `complete`, `release` and `extend` are one fencing-token-guarded statement each. Fencing tokens are
 *   AUTOINCREMENT row ids: they grow across claims, takeovers and deletes.
 * - Time is the host's clock (`Date.now()`), the same for every process of the host.
 * - Each writing claim also deletes up to two expired records: cleanup is bounded and needs no timer.
 * - Waiting for another connection's lock is asynchronous, at most `busyTimeout` ms.
 * - With `transactional: true` the store offers `executeTransactionally`; see `currentTransaction()`.
 */
export class SqliteStore implements IdempotencyStore {
  /** Present only in transactional mode; the engine uses it when present. */
  readonly executeTransactionally?: ExecuteTransactionally;

  readonly #options: ResolvedSqliteStoreOptions;
  readonly #db: Connection;
  readonly #sql: StatementSql;
  readonly #transactions: Transactions | undefined;
  #statements: Prepared | undefined;
  #migrating: Promise<Prepared> | undefined;

  constructor(options: SqliteStoreOptions) {
    this.#options = normalizeSqliteStoreOptions(options);
    this.#sql = statementSql(this.#options.table);
    try {
      this.#db = openConnection(this.#options);
    } catch (error) {
      throw storeError('open', error);
    }
    if (this.#options.transactional) {
      const transactions = new Transactions(this.#options, this.#sql, (key, token) =>
        this.release(key, token),
      );
      this.#transactions = transactions;
      this.executeTransactionally = (key, fencingToken, run) => transactions.execute(key, fencingToken, run);
    }
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const checked = {
      key: request.key,
      fingerprint: request.fingerprint,
      leaseMs: milliseconds(request.leaseMs, 'leaseMs'),
      ttlMs: milliseconds(request.ttlMs, 'ttlMs'),
    };
    const s = this.#statements ?? (await this.#ready());
    const { busyTimeout } = this.#options;
    // Without a lock: a replay, a mismatch or a live lease only needs a read.
    const seen = await whenUnlocked('claim', busyTimeout, () =>
      decideClaim(
        s.select.get({ key: checked.key }) as RecordRow | undefined,
        checked.fingerprint,
        Date.now(),
      ),
    );
    if (seen.outcome !== 'claim') return seen;
    return whenUnlocked('claim', busyTimeout, () => s.claimWrite(checked));
  }

  async complete(key: string, fencingToken: number, response: StoredResponse): Promise<boolean> {
    const s = this.#statements ?? (await this.#ready());
    const params = {
      key,
      token: fencingToken,
      status: response.status,
      headers: JSON.stringify(response.headers),
      body: toBlob(response.body),
    };
    return whenUnlocked(
      'complete',
      this.#options.busyTimeout,
      () => s.complete.run({ ...params, now: Date.now() }).changes === 1,
    );
  }

  async release(key: string, fencingToken: number): Promise<boolean> {
    const s = this.#statements ?? (await this.#ready());
    return whenUnlocked(
      'release',
      this.#options.busyTimeout,
      () => s.release.run({ key, token: fencingToken, now: Date.now() }).changes === 1,
    );
  }

  async extend(key: string, fencingToken: number, leaseMs: number): Promise<boolean> {
    milliseconds(leaseMs, 'leaseMs');
    // The handler's own transaction holds the write lock: the extension goes through it.
    const inTransaction = this.#transactions?.extend(key, fencingToken, Math.ceil(leaseMs));
    if (inTransaction !== undefined) return inTransaction;
    const s = this.#statements ?? (await this.#ready());
    const params = { key, token: fencingToken, leaseMs: Math.ceil(leaseMs) };
    return whenUnlocked(
      'extend',
      this.#options.busyTimeout,
      () => s.extend.get({ ...params, now: Date.now() }) !== undefined,
    );
  }

  async get(key: string): Promise<IdempotencyRecord | undefined> {
    const s = this.#statements ?? (await this.#ready());
    const row = await whenUnlocked(
      'get',
      this.#options.busyTimeout,
      () => s.select.get({ key }) as RecordRow | undefined,
    );
    return row === undefined || row.expires_at <= Date.now() ? undefined : toRecord(row);
  }

  /** Removes the key's record whatever its state (an operator action). True when a live record existed. */
  async delete(key: string): Promise<boolean> {
    const s = this.#statements ?? (await this.#ready());
    return whenUnlocked('delete', this.#options.busyTimeout, () => {
      const now = Date.now();
      return (s.delete.all({ key }) as Array<{ expires_at: number }>).some((row) => row.expires_at > now);
    });
  }

  /**
   * The connection of the handler's transaction, in transactional mode: make the business writes on it
   * so they commit together with the completed record. Do not COMMIT or ROLLBACK it yourself, and do not
   * keep it: it is closed when the execution ends.
   * @throws {SqliteStoreError} `ERR_ONCELY_NO_TRANSACTION` outside a transactional handler, or once its
   * transaction ended (committed, or rolled back when its lease ran out).
   */
  currentTransaction(): Connection {
    if (this.#transactions === undefined) throw noTransactionError(false);
    return this.#transactions.current();
  }

  /** Closes the store's connections; a transaction still open is rolled back. Later calls reject. */
  close(): void {
    this.#transactions?.close();
    this.#db.close();
  }

  /** Creates the table on first use (once per store) and prepares the statements. */
  #ready(): Promise<Prepared> {
    this.#migrating ??= whenUnlocked('migrate', this.#options.busyTimeout, () => {
      migrate(this.#db, this.#options);
      const statements = prepare(this.#db, this.#sql, STATEMENTS);
      const claimWrite = this.#db.transaction(claimIn(statements));
      return { ...statements, claimWrite: (request: ClaimRequest) => claimWrite.immediate(request) };
    }).then(
      (statements) => (this.#statements = statements),
      (error: unknown) => {
        this.#migrating = undefined;
        throw error;
      },
    );
    return this.#migrating;
  }
}

/** The writing half of a claim, run inside `BEGIN IMMEDIATE`: the rules again, on a locked read. */
function claimIn(s: Statements<'select' | 'cleanup' | 'insert'>) {
  return function claimWrite({ key, fingerprint, leaseMs, ttlMs }: ClaimRequest): ClaimResult {
    const now = Date.now();
    const decision = decideClaim(s.select.get({ key }) as RecordRow | undefined, fingerprint, now);
    if (decision.outcome !== 'claim') return decision;
    s.cleanup.run({ now, limit: CLEANUP_BATCH });
    const leaseExpiresAt = now + leaseMs;
    const expiresAt = Math.max(now + ttlMs, leaseExpiresAt);
    const { lastInsertRowid } = s.insert.run({ key, fingerprint, leaseMs, leaseExpiresAt, expiresAt });
    return { outcome: 'claimed', fencingToken: Number(lastInsertRowid), takeover: decision.takeover };
  };
}
