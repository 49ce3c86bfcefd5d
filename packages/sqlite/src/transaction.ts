import { AsyncLocalStorage } from 'node:async_hooks';
import type { TransactionDecision, TransactionOutcome } from '@oncely/server';
import { busyError, whenUnlocked } from './busy.js';
import { openConnection, prepare } from './connection.js';
import type { Connection, Statements } from './connection.js';
import { toBlob } from './decode.js';
import { SqliteStoreError, SqliteStoreErrorCode, noTransactionError, storeError } from './errors.js';
import type { ResolvedSqliteStoreOptions } from './options.js';
import type { StatementSql } from './schema.js';
import { turnstile } from './turnstile.js';

const STATEMENTS = ['startLease', 'extend', 'complete', 'release'] as const;
type TransactionStatements = Statements<(typeof STATEMENTS)[number]>;

/** One running handler's transaction. */
interface OpenTransaction {
  key: string;
  token: number;
  db: Connection;
  statements: TransactionStatements;
  /** Whether the handler may use `db`: cleared when the transaction ends (the handler may outlive it). */
  active: boolean;
  /** Rolled back because the lease ran out. */
  expired: boolean;
  timer: NodeJS.Timeout | undefined;
  /** Ends this execution's turn; idempotent. */
  leave: () => void;
}

/**
 * Transactional mode. Each execution gets a connection of its own, opened for it and closed after it:
 * `BEGIN IMMEDIATE` (SQLite's one write lock), the handler, then the record's completion or release in
 * that same transaction. A connection the handler kept a reference to is closed, so it can never write
 * into another execution's transaction.
 *
 * SQLite has one writer per file, so executions take turns: in this process in order (a queue), and
 * with other processes by waiting, asynchronously, for the lock. Nobody else can write while a handler
 * runs, so nobody can take its key over either: the lease bounds the transaction instead. When it runs
 * out (the engine stopped extending it: a hung handler past `maxExecution`), the transaction is rolled
 * back and the lock freed.
 */
export class Transactions {
  readonly #options: ResolvedSqliteStoreOptions;
  readonly #sql: StatementSql;
  readonly #release: (key: string, token: number) => Promise<boolean>;
  readonly #context = new AsyncLocalStorage<OpenTransaction>();
  readonly #open = new Map<string, OpenTransaction>();
  readonly #turn = turnstile();

  constructor(
    options: ResolvedSqliteStoreOptions,
    sql: StatementSql,
    release: (key: string, token: number) => Promise<boolean>,
  ) {
    this.#options = options;
    this.#sql = sql;
    this.#release = release;
  }

  /** The connection of the running handler's transaction. */
  current(): Connection {
    const transaction = this.#context.getStore();
    if (transaction?.active === true) return transaction.db;
    throw noTransactionError(transaction !== undefined);
  }

  /** Extends the lease of a transaction open here; `undefined` when this process runs none for the key. */
  extend(key: string, token: number, leaseMs: number): boolean | undefined {
    const transaction = this.#open.get(key);
    if (transaction === undefined || transaction.token !== token) return undefined;
    if (!transaction.active) return false;
    const row = transaction.statements.extend.get({ key, token, now: Date.now(), leaseMs }) as
      { lease_expires_at: number } | undefined;
    if (row === undefined) return false;
    this.#arm(transaction, row.lease_expires_at);
    return true;
  }

  /** Closes the connections of the transactions still open (rolling them back). */
  close(): void {
    for (const transaction of [...this.#open.values()]) this.#expire(transaction);
  }

  async execute(
    key: string,
    token: number,
    run: () => Promise<TransactionDecision>,
  ): Promise<TransactionOutcome> {
    const transaction = await this.#begin(key, token);
    let decision: TransactionDecision | undefined;
    let failure: { error: unknown } | undefined;
    try {
      decision = await this.#context.run(transaction, run);
    } catch (error) {
      failure = { error };
    }
    const { db, statements, expired } = transaction;
    this.#end(transaction);
    try {
      if (expired) {
        // Rolled back when its lease ran out (#expire): nothing of it was committed.
        if (failure !== undefined) {
          await this.#release(key, token).catch(() => undefined);
          throw failure.error;
        }
        return 'superseded';
      }
      return await this.#settle(db, statements, key, token, failure === undefined ? decision! : failure);
    } finally {
      if (db.open) db.close();
      transaction.leave();
    }
  }

  /** Waits for this process's turn and the file's write lock, then checks the claim is still ours. */
  async #begin(key: string, token: number): Promise<OpenTransaction> {
    const { busyTimeout } = this.#options;
    const started = performance.now();
    const leave = await this.#turn(busyTimeout);
    if (leave === undefined) throw busyError('transaction', busyTimeout);
    let db: Connection | undefined;
    try {
      db = openConnection(this.#options);
      const statements = prepare(db, this.#sql, STATEMENTS);
      const left = Math.max(0, busyTimeout - (performance.now() - started));
      const connection = db;
      await whenUnlocked('transaction', left, () => connection.exec('BEGIN IMMEDIATE'));
      // A full lease from now: waiting for the lock did not count against the handler.
      const lease = statements.startLease.get({ key, token, now: Date.now() }) as
        { lease_expires_at: number } | undefined;
      if (lease === undefined) {
        throw new SqliteStoreError(
          SqliteStoreErrorCode.contended,
          'transaction',
          'SqliteStore: the claim was taken over (or deleted) before its transaction could start; the ' +
            'handler did not run.',
        );
      }
      db.exec('SAVEPOINT oncely_handler');
      const transaction: OpenTransaction = {
        key,
        token,
        db,
        statements,
        active: true,
        expired: false,
        timer: undefined,
        leave,
      };
      this.#open.set(key, transaction);
      this.#arm(transaction, lease.lease_expires_at);
      return transaction;
    } catch (error) {
      if (db?.open === true) db.close();
      leave();
      throw storeError('transaction', error);
    }
  }

  /** Applies the decision (or the handler's failure) in the transaction, and commits. */
  async #settle(
    db: Connection,
    statements: TransactionStatements,
    key: string,
    token: number,
    decision: TransactionDecision | { error: unknown },
  ): Promise<TransactionOutcome> {
    const busyTimeout = this.#options.busyTimeout;
    const commit = () => whenUnlocked('transaction', busyTimeout, () => db.exec('COMMIT'));
    try {
      if (!db.inTransaction) {
        throw new Error(
          'the handler ended the transaction itself (COMMIT or ROLLBACK): leave that to the store',
        );
      }
      if ('error' in decision || decision.action === 'release') {
        // The release is part of the same transaction: no second wait for the lock.
        db.exec('ROLLBACK TO oncely_handler');
        const released = statements.release.run({ key, token, now: Date.now() }).changes === 1;
        await commit();
        if ('error' in decision) throw decision.error;
        return released ? 'released' : 'superseded';
      }
      db.exec('RELEASE oncely_handler');
      const { response } = decision;
      const completed = statements.complete.run({
        key,
        token,
        now: Date.now(),
        status: response.status,
        headers: JSON.stringify(response.headers),
        body: toBlob(response.body),
      });
      if (completed.changes !== 1) {
        db.exec('ROLLBACK');
        return 'superseded';
      }
      await commit();
      return 'completed';
    } catch (error) {
      if ('error' in decision && error === decision.error) throw error;
      // Closing rolls back whatever is open. The release only deletes an in-progress record, so even
      // when a failed COMMIT went through after all, it cannot delete the completed one.
      if (db.open) db.close();
      await this.#release(key, token).catch(() => undefined);
      if ('error' in decision) throw decision.error;
      throw storeError('transaction', error);
    }
  }

  /** (Re)arms the rollback at the lease's end. */
  #arm(transaction: OpenTransaction, leaseExpiresAt: number): void {
    clearTimeout(transaction.timer);
    transaction.timer = setTimeout(() => this.#expire(transaction), Math.max(0, leaseExpiresAt - Date.now()));
    transaction.timer.unref();
  }

  /** The lease ran out with the handler still running: roll back (closing does) and free the lock. */
  #expire(transaction: OpenTransaction): void {
    if (!transaction.active) return;
    this.#end(transaction);
    transaction.expired = true;
    try {
      transaction.db.close();
    } catch {
      // Only an iterator the handler left open prevents it; `execute` closes it when the handler ends.
      return;
    }
    transaction.leave();
  }

  /** Detaches the transaction from the handler: `current()` and `extend()` no longer reach it. */
  #end(transaction: OpenTransaction): void {
    clearTimeout(transaction.timer);
    transaction.active = false;
    if (this.#open.get(transaction.key) === transaction) this.#open.delete(transaction.key);
  }
}
