import { AsyncLocalStorage } from 'node:async_hooks';
import { MemoryStore } from '../store/memory-store.js';
import type { ExecuteTransactionally, IdempotencyStore } from '../store/types.js';

/** Faults and pauses a test can switch on. */
export interface TransactionFaults {
  /** The transaction cannot begin: the handler must not run. */
  begin?: boolean;
  /** The commit fails: the writes are lost and the claim released. */
  commit?: boolean;
  /** Awaited after the handler finished, before the commit. */
  beforeCommit?: () => Promise<void>;
}

/** A transactional store over a {@link MemoryStore}, with business writes to look at. */
export interface TestTransactionalStore extends IdempotencyStore {
  executeTransactionally: ExecuteTransactionally;
  /** The store underneath: claim or release on it to play another request. */
  readonly inner: MemoryStore;
  /** Business writes committed so far, in order. */
  readonly committed: string[];
  readonly faults: TransactionFaults;
  /** A business write in the running handler's transaction. Throws outside one (or after it ended). */
  write(value: string): void;
}

/**
 * What transactional mode promises, played in memory for the adapter conformance suite: writes made
 * with `write()` inside the handler are committed together with the completed record, or not at all.
 */
export function createTransactionalMemoryStore(inner = new MemoryStore()): TestTransactionalStore {
  const current = new AsyncLocalStorage<{ writes: string[]; open: boolean }>();
  const committed: string[] = [];
  const faults: TransactionFaults = {};
  return {
    inner,
    committed,
    faults,
    claim: (request) => inner.claim(request),
    complete: (key, token, response) => inner.complete(key, token, response),
    release: (key, token) => inner.release(key, token),
    extend: (key, token, leaseMs) => inner.extend(key, token, leaseMs),
    get: (key) => inner.get(key),
    delete: (key) => inner.delete(key),
    write(value) {
      const transaction = current.getStore();
      if (transaction === undefined || !transaction.open) throw new Error('no transaction');
      transaction.writes.push(value);
    },
    async executeTransactionally(key, fencingToken, run) {
      if (faults.begin === true) throw new Error('BEGIN failed');
      const transaction = { writes: [] as string[], open: true };
      let decision;
      try {
        decision = await current.run(transaction, run);
      } catch (error) {
        transaction.open = false;
        await inner.release(key, fencingToken);
        throw error;
      }
      transaction.open = false;
      if (decision.action === 'release') {
        return (await inner.release(key, fencingToken)) ? 'released' : 'superseded';
      }
      await faults.beforeCommit?.();
      if (faults.commit === true) {
        await inner.release(key, fencingToken);
        throw new Error('COMMIT failed');
      }
      if (!(await inner.complete(key, fencingToken, decision.response))) return 'superseded';
      committed.push(...transaction.writes);
      return 'completed';
    },
  };
}
