import { invalidOptionError } from '@oncely/core';
import { LruMap } from './lru-map.js';
import type {
  ClaimRequest,
  ClaimResult,
  IdempotencyRecord,
  IdempotencyStore,
  StoredResponse,
} from './types.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most records kept; past it the least recently used record is evicted (TTL still applies).
   * @default 10_000
   */
  maxEntries?: number;
  /**
   * The clock, in epoch ms. Tests inject a fake one.
   * @default Date.now
   */
  now?: () => number;
}

/**
 * An in-process store: records in a `Map`, expired by TTL and bounded by LRU eviction. Right for one
 * process and for tests; several server instances need a shared store (Redis, PostgreSQL).
 *
 * Atomicity is free here: each method runs to completion on the event loop before another starts.
 * Fencing tokens come from one store-wide counter, so they keep increasing even when a key is released
 * and claimed again.
 */
export class MemoryStore implements IdempotencyStore {
  readonly #records = new LruMap<IdempotencyRecord>();
  readonly #maxEntries: number;
  readonly #now: () => number;
  #lastToken = 0;

  constructor(options: MemoryStoreOptions = {}) {
    const { maxEntries = 10_000, now = Date.now } = options;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw invalidOptionError('maxEntries', maxEntries, 'an integer of at least 1');
    }
    if (typeof now !== 'function') throw invalidOptionError('now', now, 'a function returning epoch ms');
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  /** Number of records held, expired ones included until they are touched or evicted. */
  get size(): number {
    return this.#records.size;
  }

  /** Forgets every record. */
  clear(): void {
    this.#records.clear();
  }

  async claim({ key, fingerprint, leaseMs, ttlMs }: ClaimRequest): Promise<ClaimResult> {
    const now = this.#now();
    const record = this.#live(key, now);
    if (record === undefined) {
      const fencingToken = ++this.#lastToken;
      this.#records.set(key, {
        status: 'in_progress',
        fingerprint,
        fencingToken,
        leaseExpiresAt: now + leaseMs,
        expiresAt: now + ttlMs,
      });
      this.#evict();
      return { outcome: 'claimed', fencingToken, takeover: false };
    }
    this.#touch(key);
    if (record.fingerprint !== fingerprint) return { outcome: 'mismatch' };
    if (record.status === 'completed' && record.response !== undefined) {
      return { outcome: 'completed', record: { ...record, status: 'completed', response: record.response } };
    }
    if (record.leaseExpiresAt > now)
      return { outcome: 'in_progress', retryAfterMs: record.leaseExpiresAt - now };
    // The holder's lease ran out (crash, hang): take over with a new token that fences it out.
    record.fencingToken = ++this.#lastToken;
    record.leaseExpiresAt = now + leaseMs;
    record.expiresAt = now + ttlMs;
    return { outcome: 'claimed', fencingToken: record.fencingToken, takeover: true };
  }

  async complete(key: string, fencingToken: number, response: StoredResponse): Promise<boolean> {
    const record = this.#owned(key, fencingToken);
    if (record === undefined) return false;
    record.status = 'completed';
    // Copy: the caller's buffers may be reused once this returns.
    record.response = {
      status: response.status,
      headers: response.headers.map(([name, value]) => [name, value] as const),
      body: response.body === null ? null : new Uint8Array(response.body),
    };
    return true;
  }

  async release(key: string, fencingToken: number): Promise<boolean> {
    if (this.#owned(key, fencingToken) === undefined) return false;
    this.#records.delete(key);
    return true;
  }

  async extend(key: string, fencingToken: number, leaseMs: number): Promise<boolean> {
    const record = this.#owned(key, fencingToken);
    if (record === undefined) return false;
    record.leaseExpiresAt = this.#now() + leaseMs;
    return true;
  }

  async get(key: string): Promise<IdempotencyRecord | undefined> {
    const record = this.#live(key, this.#now());
    return record === undefined ? undefined : { ...record };
  }

  /** The record unless absent or past its TTL (then it is dropped). */
  #live(key: string, now: number): IdempotencyRecord | undefined {
    const record = this.#records.get(key);
    if (record === undefined) return undefined;
    if (record.expiresAt <= now) {
      this.#records.delete(key);
      return undefined;
    }
    return record;
  }

  /** The in-progress record `fencingToken` still owns. */
  #owned(key: string, fencingToken: number): IdempotencyRecord | undefined {
    const record = this.#live(key, this.#now());
    if (record === undefined || record.status !== 'in_progress' || record.fencingToken !== fencingToken) {
      return undefined;
    }
    return record;
  }

  /** Moves a record to the most-recently-used end. */
  #touch(key: string): void {
    this.#records.touch(key);
  }

  #evict(): void {
    while (this.#records.size > this.#maxEntries) this.#records.deleteOldest();
  }
}
