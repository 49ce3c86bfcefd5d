import { AsyncLocalStorage } from 'node:async_hooks';
import type {
  ClaimRequest,
  ClaimResult,
  IdempotencyRecord,
  IdempotencyStore,
  StoredResponse,
} from '@oncely/server';
import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { toBytea, toClaimResult, toRecord } from './decode.js';
import { PostgresStoreError, PostgresStoreErrorCode, storeError } from './errors.js';
import { normalizePostgresStoreOptions } from './options.js';
import type { PostgresStoreOptions } from './options.js';
import { reapExpired, startReaper } from './reaper.js';
import type { ReapOptions, ReaperOptions } from './reaper.js';
import { buildStatements } from './statements.js';
import { TransactionTurns } from './transaction-turns.js';
import type { RecordRow, Statements } from './statements.js';
import type { ExecuteTransactionally, TransactionDecision, TransactionOutcome } from './transactional.js';

type Queryable = Pool | PoolClient;

/** Claims that lose a race to a row committed after their snapshot run again; this bounds the loop. */
const CLAIM_ATTEMPTS = 5;

function milliseconds(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`PostgresStore: \`${name}\` must be a positive number of ms, got ${String(value)}.`);
  }
  return value;
}

/**
 * An {@link IdempotencyStore} on PostgreSQL: one row per key in a table made by {@link migrate}.
 *
 * - A claim is one `INSERT … ON CONFLICT DO UPDATE … WHERE <expired>` statement that also returns the
 *   existing row, so a replay is one round trip; `complete`, `release` and `extend` are one statement
 *   each, guarded by the fencing token. `now()` of the database decides lease and TTL expiry.
 * - Fencing tokens come from an identity sequence: they grow across claims, takeovers and deletes.
 * - Expired rows stay until {@link PostgresStore.reap} (or {@link PostgresStore.startReaper}) deletes them.
 * - With `transactional: true` the store offers `executeTransactionally` (see {@link ExecuteTransactionally});
 *   at most `maxTransactions` handlers hold a connection at once, so lease extensions never starve.
 */
export class PostgresStore implements IdempotencyStore {
  /** Present only in transactional mode; the engine uses it when present. */
  readonly executeTransactionally?: ExecuteTransactionally;

  readonly #pool: Pool;
  readonly #sql: Statements;
  readonly #turns: TransactionTurns;
  /** The running handler's transaction; `client` is cleared when it ends (the handler may outlive it). */
  readonly #transaction = new AsyncLocalStorage<{ client: PoolClient | undefined }>();

  constructor(options: PostgresStoreOptions) {
    const resolved = normalizePostgresStoreOptions(options);
    this.#pool = resolved.pool;
    this.#sql = buildStatements(resolved);
    this.#turns = new TransactionTurns(resolved.maxTransactions);
    if (resolved.transactional) {
      this.executeTransactionally = (key, fencingToken, run) =>
        this.#runInTransaction(key, fencingToken, run);
    }
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const { key, fingerprint } = request;
    const params = [
      key,
      fingerprint,
      milliseconds(request.leaseMs, 'leaseMs'),
      milliseconds(request.ttlMs, 'ttlMs'),
    ];
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const rows = await this.#rows<RecordRow>('claim', this.#sql.claim, params);
      const result = toClaimResult(rows[0], fingerprint);
      if (result !== undefined) return result;
    }
    throw new PostgresStoreError(
      PostgresStoreErrorCode.contended,
      'claim',
      `PostgresStore claim: the key stayed contended for ${CLAIM_ATTEMPTS} attempts.`,
    );
  }

  async complete(key: string, fencingToken: number, response: StoredResponse): Promise<boolean> {
    return this.#complete(this.#pool, key, fencingToken, response);
  }

  async release(key: string, fencingToken: number): Promise<boolean> {
    return this.#changed('release', this.#pool, this.#sql.release, [key, fencingToken]);
  }

  async extend(key: string, fencingToken: number, leaseMs: number): Promise<boolean> {
    const params = [key, fencingToken, milliseconds(leaseMs, 'leaseMs')];
    return this.#changed('extend', this.#pool, this.#sql.extend, params);
  }

  async get(key: string): Promise<IdempotencyRecord | undefined> {
    const rows = await this.#rows<RecordRow>('get', this.#sql.get, [key]);
    return rows[0] === undefined ? undefined : toRecord(rows[0]);
  }

  async delete(key: string): Promise<boolean> {
    const rows = await this.#rows<{ live: boolean }>('delete', this.#sql.delete, [key]);
    return rows[0]?.live === true;
  }

  /**
   * Deletes expired rows (past their TTL) in batches of `batchSize`, at most `maxBatches` statements.
   * Resolves to the number of rows deleted.
   */
  async reap(options: ReapOptions = {}): Promise<number> {
    return reapExpired(
      async (limit) => (await this.#query('reap', this.#pool, this.#sql.reap, [limit])).rowCount ?? 0,
      options,
    );
  }

  /** Runs {@link reap} every `intervalMs` on an unref'd timer. Returns the function that stops it. */
  startReaper(options: ReaperOptions = {}): () => void {
    return startReaper((reapOptions) => this.reap(reapOptions), options);
  }

  /**
   * The transaction of the handler running in transactional mode: do the business writes on it so they
   * commit together with the completed record. Do not COMMIT or ROLLBACK it yourself.
   * @throws {PostgresStoreError} `ERR_ONCELY_NO_TRANSACTION` outside a transactional handler, or once
   * its transaction ended (e.g. in an event stream, which commits when it starts).
   */
  currentTransaction(): PoolClient {
    const transaction = this.#transaction.getStore();
    if (transaction?.client !== undefined) return transaction.client;
    throw new PostgresStoreError(
      PostgresStoreErrorCode.noTransaction,
      'currentTransaction',
      transaction === undefined
        ? 'PostgresStore.currentTransaction() was called outside a transactional handler: create the ' +
            'store with `transactional: true` and call it from inside the handler.'
        : "PostgresStore.currentTransaction() was called after the handler's transaction ended (an " +
            'event stream commits when it starts): make the business writes before that.',
    );
  }

  async #runInTransaction(
    key: string,
    fencingToken: number,
    run: () => Promise<TransactionDecision>,
  ): Promise<TransactionOutcome> {
    const endTurn = await this.#turns.take();
    let client: PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      endTurn();
      throw storeError('transaction', error);
    }
    let broken = false;
    // A checked-out client has no pool listener: without ours, a dropped connection mid-handler would
    // surface as an uncaught 'error' event. The failing query reports it; we only mark the client.
    const onError = () => (broken = true);
    client.on('error', onError);
    let givenBack = false;
    const giveBack = (): void => {
      if (givenBack) return;
      givenBack = true;
      client.off('error', onError);
      client.release(broken);
    };
    const transaction = { client: undefined as PoolClient | undefined };
    try {
      await this.#query('transaction', client, 'BEGIN');
      transaction.client = client;
      const decision = await this.#transaction.run(transaction, run);
      // From here on the connection is the store's: the handler must not use it any more.
      transaction.client = undefined;
      if (decision.action === 'release') {
        await this.#query('transaction', client, 'ROLLBACK');
        const released = await this.#changed('release', client, this.#sql.release, [key, fencingToken]);
        return released ? 'released' : 'superseded';
      }
      if (!(await this.#complete(client, key, fencingToken, decision.response))) {
        await this.#query('transaction', client, 'ROLLBACK');
        return 'superseded';
      }
      await this.#query('transaction', client, 'COMMIT');
      return 'completed';
    } catch (error) {
      transaction.client = undefined;
      // Given up by the engine (past maxExecution, or its response abandoned): the handler may still
      // be in a query on this connection, and a ROLLBACK would wait behind it. Drop the connection
      // instead: the server rolls back, and the pool gets its slot back at once.
      if ((error as { code?: unknown }).code === 'ERR_ONCELY_EXECUTION_ABORTED') broken = true;
      // Roll back, then release: the release only deletes an in-progress record, so even when the
      // COMMIT's fate is unknown it can never delete a record that did commit.
      else await client.query('ROLLBACK').catch(() => (broken = true));
      // The connection goes back first: with every pooled connection in a failing transaction, a
      // release waiting for a connection of its own would never get one.
      giveBack();
      await this.release(key, fencingToken).catch(() => undefined);
      throw error;
    } finally {
      giveBack();
      endTurn();
    }
  }

  async #complete(db: Queryable, key: string, token: number, response: StoredResponse): Promise<boolean> {
    const params = [key, token, response.status, JSON.stringify(response.headers), toBytea(response.body)];
    return this.#changed('complete', db, this.#sql.complete, params);
  }

  async #changed(operation: string, db: Queryable, text: string, params: unknown[]): Promise<boolean> {
    return (await this.#query(operation, db, text, params)).rowCount === 1;
  }

  async #rows<Row extends QueryResultRow>(
    operation: string,
    text: string,
    params: unknown[],
  ): Promise<Row[]> {
    return (await this.#query<Row>(operation, this.#pool, text, params)).rows;
  }

  async #query<Row extends QueryResultRow = QueryResultRow>(
    operation: string,
    db: Queryable,
    text: string,
    params: unknown[] = [],
  ): Promise<QueryResult<Row>> {
    try {
      return await db.query<Row>(text, params);
    } catch (error) {
      throw storeError(operation, error);
    }
  }
}
