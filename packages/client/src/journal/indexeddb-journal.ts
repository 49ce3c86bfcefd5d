import { invalidOptionError } from '@oncely/core';
import type { Journal, JournalEntry } from './types.js';

/** Options of {@link createIndexedDbJournal}. */
export interface IndexedDbJournalOptions {
  /** The database's name: one journal per name and origin, shared by the origin's pages and workers. @default 'oncely-journal' */
  name?: string | undefined;
  /** The IndexedDB factory. @default globalThis.indexedDB */
  indexedDB?: IDBFactory | undefined;
}

const STORE = 'operations';

/**
 * A durable journal in the browser's IndexedDB, usable from pages, dedicated workers and Service
 * Workers (nothing here needs a window). Every write is a `durability: 'strict'` transaction, which
 * resolves only once the browser has flushed it; `record` looks up and adds in one transaction, so two
 * tabs recording one operation id agree on its key.
 */
export function createIndexedDbJournal(options: IndexedDbJournalOptions = {}): Journal {
  const { name = 'oncely-journal', indexedDB = (globalThis as { indexedDB?: IDBFactory }).indexedDB } =
    options;
  if (typeof name !== 'string' || name === '') throw invalidOptionError('name', name, 'a non-empty string');
  if (typeof indexedDB?.open !== 'function') {
    throw invalidOptionError('indexedDB', indexedDB, 'an IDBFactory (none in this runtime)');
  }
  let database: Promise<IDBDatabase> | undefined;

  function open(): Promise<IDBDatabase> {
    return (database ??= new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB!.open(name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'id' });
      request.onsuccess = () => {
        const db = request.result;
        // Another tab upgrading the database, or the browser closing it: open again on next use.
        db.onversionchange = () => {
          db.close();
          database = undefined;
        };
        db.onclose = () => (database = undefined);
        resolve(db);
      };
      request.onerror = () => reject(request.error ?? new Error(`IndexedDB ${name} could not be opened.`));
    }).catch((error: unknown) => {
      database = undefined;
      throw error;
    }));
  }

  /** Runs `work` in one transaction; resolves with its result once the transaction committed. */
  async function transact<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => () => T): Promise<T> {
    const db = await open();
    const tx = db.transaction(STORE, mode, { durability: 'strict' });
    const result = work(tx.objectStore(STORE));
    return new Promise<T>((resolve, reject) => {
      tx.oncomplete = () => resolve(result());
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed.'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted.'));
    });
  }

  return {
    record(entry) {
      return transact('readwrite', (store) => {
        let pending: JournalEntry | undefined;
        const lookup = store.get(entry.id);
        lookup.onsuccess = () => {
          pending = lookup.result as JournalEntry | undefined;
          if (pending === undefined) store.add(entry);
        };
        return () => pending ?? entry;
      });
    },
    remove(id, idempotencyKey) {
      return transact('readwrite', (store) => {
        const lookup = store.get(id);
        lookup.onsuccess = () => {
          if ((lookup.result as JournalEntry | undefined)?.idempotencyKey === idempotencyKey)
            store.delete(id);
        };
        return () => undefined;
      });
    },
    list() {
      return transact('readonly', (store) => {
        const all = store.getAll();
        return () => all.result as JournalEntry[];
      });
    },
  };
}
