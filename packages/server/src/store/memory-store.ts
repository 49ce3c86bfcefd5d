import { rateLimitedLog } from '@oncely/core';
import { storeKeyScope } from '../engine/fingerprint.js';
import { storeFullError } from './errors.js';
import { normalizeMemoryStoreOptions } from './memory-store-options.js';
import type {
  MemoryStoreFull,
  MemoryStoreOptions,
  ResolvedMemoryStoreOptions,
} from './memory-store-options.js';
import { RecordRoom } from './record-room.js';
import type { Slot } from './record-room.js';
import type {
  ClaimRequest,
  ClaimResult,
  IdempotencyRecord,
  IdempotencyStore,
  StoredResponse,
} from './types.js';

/** A store that cannot make room drops expired records first, at most this often (a full scan). */
const SWEEP_INTERVAL_MS = 1000;

/**
 * An in-process store, right for one process and for tests; several server instances need a shared
 * store (Redis, PostgreSQL). Records expire by TTL and are bounded by `maxEntries` and `maxBytes`:
 * - a record in progress is never evicted; when no room can be made for a new claim, the claim throws
 *   `ERR_ONCELY_STORE_FULL` (the engine answers 503 + `Retry-After` without running the handler);
 * - completed records are evicted least recently used first, and a scope over its `scopeShare` pays
 *   with its own records first, so one tenant's flood cannot push another tenant's records out. A
 *   retry of an evicted key runs again: size the store so that does not happen within a retry window.
 * The scope is read from the store key the engine builds (`<scope hash>:<key hash>`).
 *
 * Atomicity is free here: each method runs to completion on the event loop before another starts.
 * Fencing tokens come from one store-wide counter, so they keep increasing even when a key is released
 * and claimed again.
 */
export class MemoryStore implements IdempotencyStore {
  readonly #options: ResolvedMemoryStoreOptions;
  readonly #room: RecordRoom;
  readonly #now: () => number;
  #lastToken = 0;
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(options: MemoryStoreOptions = {}) {
    this.#options = normalizeMemoryStoreOptions(options);
    this.#now = this.#options.now;
    this.#room = new RecordRoom(this.#options, (slot) => this.#evicted(slot));
  }

  /** Number of records held, expired ones included until they are touched or evicted. */
  get size(): number {
    return this.#room.entries;
  }

  /** Estimated bytes held: what `maxBytes` bounds. */
  get bytes(): number {
    return this.#room.bytes;
  }

  /** Forgets every record. */
  clear(): void {
    this.#room.clear();
  }

  async claim({ key, fingerprint, leaseMs, ttlMs }: ClaimRequest): Promise<ClaimResult> {
    const now = this.#now();
    const slot = this.#live(key, now);
    if (slot === undefined) {
      const record: IdempotencyRecord = {
        status: 'in_progress',
        fingerprint,
        fencingToken: this.#lastToken + 1,
        leaseExpiresAt: now + leaseMs,
        expiresAt: now + ttlMs,
      };
      const scope = storeKeyScope(key);
      let admitted = this.#room.admit(key, scope, record);
      if (admitted !== 'admitted' && this.#sweep(now)) admitted = this.#room.admit(key, scope, record);
      if (admitted !== 'admitted') {
        this.#full({ operation: 'claim', reason: admitted, key, scope });
        throw storeFullError(key, admitted);
      }
      this.#lastToken = record.fencingToken;
      return { outcome: 'claimed', fencingToken: record.fencingToken, takeover: false };
    }
    const { record } = slot;
    if (record.fingerprint !== fingerprint) return { outcome: 'mismatch' };
    if (record.status === 'completed' && record.response !== undefined) {
      this.#room.touch(slot);
      return { outcome: 'completed', record: { ...record, status: 'completed', response: record.response } };
    }
    if (record.leaseExpiresAt > now) {
      return { outcome: 'in_progress', retryAfterMs: record.leaseExpiresAt - now };
    }
    // The holder's lease ran out (crash, hang): take over with a new token that fences it out.
    record.fencingToken = ++this.#lastToken;
    record.leaseExpiresAt = now + leaseMs;
    record.expiresAt = now + ttlMs;
    return { outcome: 'claimed', fencingToken: record.fencingToken, takeover: true };
  }

  async complete(key: string, fencingToken: number, response: StoredResponse): Promise<boolean> {
    const slot = this.#owned(key, fencingToken);
    if (slot === undefined) return false;
    // Copy: the caller's buffers may be reused once this returns.
    const stored: StoredResponse = {
      status: response.status,
      headers: response.headers.map(([name, value]) => [name, value] as const),
      body: response.body === null ? null : new Uint8Array(response.body),
    };
    if (this.#room.complete(slot, stored)) return true;
    // No room for the body: keep the outcome without it, so a retry is answered "not replayable" and
    // never runs the handler again. The headers alone exceed the bound only when every other record is
    // in progress, by a few hundred bytes.
    this.#full({ operation: 'complete', reason: 'full', key, scope: slot.scope.id });
    const withoutBody = { ...stored, body: null };
    this.#room.complete(slot, withoutBody, true);
    return true;
  }

  async release(key: string, fencingToken: number): Promise<boolean> {
    const slot = this.#owned(key, fencingToken);
    if (slot === undefined) return false;
    this.#room.remove(slot);
    return true;
  }

  async extend(key: string, fencingToken: number, leaseMs: number): Promise<boolean> {
    const slot = this.#owned(key, fencingToken);
    if (slot === undefined) return false;
    const { record } = slot;
    record.leaseExpiresAt = this.#now() + leaseMs;
    // The contract: the TTL is not pushed, but a record never expires before its lease.
    if (record.expiresAt < record.leaseExpiresAt) record.expiresAt = record.leaseExpiresAt;
    return true;
  }

  async get(key: string): Promise<IdempotencyRecord | undefined> {
    const slot = this.#live(key, this.#now());
    return slot === undefined ? undefined : { ...slot.record };
  }

  async delete(key: string): Promise<boolean> {
    const slot = this.#live(key, this.#now());
    if (slot === undefined) return false;
    this.#room.remove(slot);
    return true;
  }

  /** The record's slot unless absent or past its TTL (then it is dropped). */
  #live(key: string, now: number): Slot | undefined {
    const slot = this.#room.get(key);
    if (slot === undefined) return undefined;
    if (slot.record.expiresAt <= now) {
      this.#room.remove(slot);
      return undefined;
    }
    return slot;
  }

  /** The in-progress record `fencingToken` still owns. */
  #owned(key: string, fencingToken: number): Slot | undefined {
    const slot = this.#live(key, this.#now());
    const record = slot?.record;
    if (record === undefined || record.status !== 'in_progress' || record.fencingToken !== fencingToken) {
      return undefined;
    }
    return slot;
  }

  /** Drops expired records when the room is full, at most once a second; true when any went. */
  #sweep(now: number): boolean {
    if (now - this.#lastSweep < SWEEP_INTERVAL_MS) return false;
    this.#lastSweep = now;
    return this.#room.sweep(now) > 0;
  }

  #evicted(slot: Slot): void {
    if (slot.record.expiresAt <= this.#now()) return; // expired anyway: not an eviction
    const { onEvict, logger } = this.#options;
    if (logger !== undefined) {
      rateLimitedLog(logger).report(
        'warn',
        'memory-store-eviction',
        `oncely: MemoryStore evicted a completed record to make room (maxEntries ${this.#options.maxEntries}, maxBytes ${this.#options.maxBytes}): a retry of its key will run the handler again. Raise the bounds, or use a shared store. (scope ${slot.scope.id || '-'}, ${slot.bytes} bytes)`,
      );
    }
    if (onEvict === undefined) return;
    report(() => onEvict({ key: slot.key, scope: slot.scope.id, bytes: slot.bytes }));
  }

  #full(event: Pick<MemoryStoreFull, 'operation' | 'reason' | 'key' | 'scope'>): void {
    const { onFull, logger } = this.#options;
    if (logger !== undefined) {
      const what =
        event.operation === 'claim'
          ? 'refused a claim (the request was answered 503 and not run)'
          : 'kept a response without its body (its replays answer "not replayable")';
      rateLimitedLog(logger).report(
        'warn',
        `memory-store-full-${event.operation}`,
        `oncely: MemoryStore ${what}: ${event.reason === 'full' ? 'no room can be made (records in progress hold it)' : "the scope holds its share of the store's records in progress"}. (scope ${event.scope || '-'}, ${this.#room.entries} records, ${this.#room.bytes} bytes)`,
      );
    }
    if (onFull === undefined) return;
    report(() => onFull({ ...event, entries: this.#room.entries, bytes: this.#room.bytes }));
  }
}

/** Calls a user hook; a hook that throws must not break the store. */
function report(call: () => void): void {
  try {
    call();
  } catch {
    // Ignored, as the engine's hooks are.
  }
}
