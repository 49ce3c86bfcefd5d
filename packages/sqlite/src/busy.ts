import { setTimeout as sleep } from 'node:timers/promises';
import { SqliteStoreError, SqliteStoreErrorCode, isBusy, storeError } from './errors.js';

/**
 * Runs `attempt` (one synchronous better-sqlite3 step) until it does not fail with `SQLITE_BUSY`, for at
 * most `busyTimeout` ms. The store's connections have SQLite's own busy timeout at 0: its handler sleeps
 * inside the call and would block the event loop, and with it a transactional handler of this very
 * process that holds the lock being waited for. Here the wait is a timer, so everything else runs.
 */
export async function whenUnlocked<T>(operation: string, busyTimeout: number, attempt: () => T): Promise<T> {
  const started = performance.now();
  for (let tries = 0; ; tries++) {
    try {
      return attempt();
    } catch (error) {
      if (!isBusy(error)) throw storeError(operation, error);
      const left = busyTimeout - (performance.now() - started);
      if (left <= 0) throw busyError(operation, busyTimeout, error);
      await sleep(Math.min(left, pause(tries)));
    }
  }
}

/** The error of a wait for the write lock that ran out. */
export function busyError(operation: string, busyTimeout: number, cause?: unknown): SqliteStoreError {
  return new SqliteStoreError(
    SqliteStoreErrorCode.busy,
    operation,
    `SqliteStore ${operation}: the database stayed locked by another writer for ${busyTimeout} ms ` +
      '(`busyTimeout`).',
    cause,
  );
}

/**
 * 1, 2, 4, 8 ms, then 10 ms between tries, halved at random so that processes waiting for the same lock
 * do not try in step. Short, because a lock is held for microseconds except by a transactional handler.
 */
function pause(tries: number): number {
  const cap = Math.min(10, 2 ** tries);
  return cap / 2 + (Math.random() * cap) / 2;
}
