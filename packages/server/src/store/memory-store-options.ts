import { invalidOptionError, normalizeLogger } from '@oncely/core';
import type { OncelyLogger } from '@oncely/core';

/** Reported by {@link MemoryStoreOptions.onEvict}: a completed record was dropped to make room. */
export interface MemoryStoreEviction {
  /** The store key of the evicted record (hashed; never the raw scope or idempotency key). */
  key: string;
  /** Hash of the record's scope (the store key's prefix; `''` for keys in another shape). */
  scope: string;
  /** Estimated bytes the record held. */
  bytes: number;
}

/** Reported by {@link MemoryStoreOptions.onFull}: a claim was refused, or a response kept without its body. */
export interface MemoryStoreFull {
  /** `claim`: the request was answered as by an unavailable store (503); `complete`: the record was
   * completed without its body (replays answer "not replayable"; the handler never runs again). */
  operation: 'claim' | 'complete';
  /**
   * `full`: nothing can be evicted for it (the room is held by records in progress, or by scopes over
   * their share); `scope-share`: its scope already holds its share of the entries in records in progress.
   */
  reason: 'full' | 'scope-share';
  /** The store key of the refused record. */
  key: string;
  /** Hash of its scope. */
  scope: string;
  /** Records held, all scopes. */
  entries: number;
  /** Estimated bytes held, all scopes. */
  bytes: number;
}

/** Options of `MemoryStore`. */
export interface MemoryStoreOptions {
  /**
   * Most records kept. Past it, completed records are evicted (least recently used first, a scope over
   * its share first); records in progress never are.
   * @default 10_000
   */
  maxEntries?: number | undefined;
  /**
   * Most bytes kept, estimated per record (body, headers, key, fingerprint and a measured overhead).
   * Enforced like `maxEntries`. A response too large to fit is kept without its body.
   * @default 67_108_864 (64 MiB)
   */
  maxBytes?: number | undefined;
  /**
   * The share of `maxEntries` and `maxBytes` one scope may hold once the store is full, as a fraction.
   * A scope over it makes room from its own completed records, never another scope's; and no scope
   * holds more than this share of `maxEntries` in records in progress (its further claims are refused).
   * `1` turns fairness off (one plain LRU over every scope).
   * @default 0.5
   */
  scopeShare?: number | undefined;
  /**
   * Called after a completed record was evicted to make room (a retry of its key will run again). Not
   * called for records that simply expired. A hook that throws is ignored.
   * @default undefined
   */
  onEvict?: ((eviction: MemoryStoreEviction) => void) | undefined;
  /**
   * Called when a claim is refused for lack of room (the engine answers 503 with `Retry-After`, without
   * running the handler) or a response is kept without its body. A hook that throws is ignored.
   * @default undefined
   */
  onFull?: ((full: MemoryStoreFull) => void) | undefined;
  /**
   * Where evictions and refused claims are reported (rate-limited, never a key or a body): anything with
   * `warn` and `error`, or `false` for none. A retry of an evicted key runs again, so an operator must
   * hear of it even without hooks.
   * @default console
   */
  logger?: OncelyLogger | false | undefined;
  /**
   * The clock, in epoch ms. Tests inject a fake one.
   * @default Date.now
   */
  now?: (() => number) | undefined;
}

/** {@link MemoryStoreOptions} with every default applied. */
export interface ResolvedMemoryStoreOptions {
  maxEntries: number;
  maxBytes: number;
  scopeShare: number;
  onEvict: ((eviction: MemoryStoreEviction) => void) | undefined;
  onFull: ((full: MemoryStoreFull) => void) | undefined;
  logger: OncelyLogger | undefined;
  now: () => number;
}

/** 64 MiB: with the measured overhead, a default server's records stay well under 100 MiB. */
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** Applies defaults and validates; throws `ERR_ONCELY_INVALID_OPTION` naming the option and value. */
export function normalizeMemoryStoreOptions(options: MemoryStoreOptions = {}): ResolvedMemoryStoreOptions {
  const {
    maxEntries = 10_000,
    maxBytes = DEFAULT_MAX_BYTES,
    scopeShare = 0.5,
    onEvict,
    onFull,
    now = Date.now,
  } = options;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw invalidOptionError('maxEntries', maxEntries, 'an integer of at least 1');
  }
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1024) {
    throw invalidOptionError('maxBytes', maxBytes, 'an integer number of bytes of at least 1024');
  }
  if (typeof scopeShare !== 'number' || !(scopeShare > 0 && scopeShare <= 1)) {
    throw invalidOptionError('scopeShare', scopeShare, 'a fraction above 0, at most 1');
  }
  if (onEvict !== undefined && typeof onEvict !== 'function') {
    throw invalidOptionError('onEvict', onEvict, 'a function');
  }
  if (onFull !== undefined && typeof onFull !== 'function') {
    throw invalidOptionError('onFull', onFull, 'a function');
  }
  if (typeof now !== 'function') throw invalidOptionError('now', now, 'a function returning epoch ms');
  const logger = normalizeLogger(options.logger);
  return { maxEntries, maxBytes, scopeShare, onEvict, onFull, logger, now };
}
