import type { Journal, JournalEntry } from './types.js';

/**
 * A journal in this process's memory: the contract without the durability, for tests and for code
 * that wants `resumePending` after an offline period within one process lifetime.
 */
export function createMemoryJournal(): Journal {
  const entries = new Map<string, JournalEntry>();
  return {
    async record(entry) {
      const pending = entries.get(entry.id);
      if (pending !== undefined) return pending;
      entries.set(entry.id, entry);
      return entry;
    },
    async remove(id, idempotencyKey) {
      if (entries.get(id)?.idempotencyKey === idempotencyKey) entries.delete(id);
    },
    async list() {
      return [...entries.values()];
    },
  };
}
