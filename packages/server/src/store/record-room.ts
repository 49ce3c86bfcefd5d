import { LruOrder } from './lru-order.js';
import type { IdempotencyRecord, StoredResponse } from './types.js';

/** One record in the room, with the bytes it is charged. */
export interface Slot {
  readonly key: string;
  readonly scope: ScopeRoom;
  record: IdempotencyRecord;
  bytes: number;
  /** Replayed since it was last queued in LRU order: moved to the back when eviction reaches it. */
  used: boolean;
}

/** What one scope holds. */
export interface ScopeRoom {
  /** Hash of the scope (the store key's prefix). */
  readonly id: string;
  entries: number;
  bytes: number;
  inProgress: number;
  /** Its completed records, least recently used first. */
  readonly completed: LruOrder<Slot>;
}

/** The bounds of a {@link RecordRoom}. */
export interface RoomLimits {
  maxEntries: number;
  maxBytes: number;
  /** Fraction of both bounds a scope may hold once the room is full (see `MemoryStoreOptions`). */
  scopeShare: number;
}

/**
 * Heap bytes a record costs beyond the characters of its key and fingerprint and its body bytes: the
 * record, slot and response objects, the body's typed array, the headers array, three Map entries and
 * their share of the Maps' hash tables (which keep slack as records come and go), and the string
 * objects (an engine-made key is a concatenation that keeps its parts). Measured on Node 20 with
 * memory-store.test.ts ("charges at least what a record really costs"): 1,258 bytes in all for a
 * record with a 200-byte body in a full store with evictions, of which 452 are key, fingerprint, one
 * header and body; rounded up.
 */
const RECORD_OVERHEAD_BYTES = 1024;
/** Per header pair: the pair array and two string headers. */
const HEADER_OVERHEAD_BYTES = 64;

/** Estimated bytes of a record: what the bounds count. Strings are hex/ASCII: one byte a character. */
export function recordBytes(key: string, fingerprint: string, response: StoredResponse | undefined): number {
  let bytes = RECORD_OVERHEAD_BYTES + key.length + fingerprint.length;
  if (response === undefined) return bytes;
  for (const [name, value] of response.headers) bytes += HEADER_OVERHEAD_BYTES + name.length + value.length;
  return bytes + (response.body?.byteLength ?? 0);
}

/**
 * Where MemoryStore's records live, bounded by entries and bytes, shared fairly between scopes.
 *
 * LRU order is a Map's insertion order. A use only marks the record; eviction moves a marked record to
 * the back instead of evicting it (lazy promotion, "second chance"). Deleting and re-inserting a key on
 * every use was the plain first try, but V8 keeps each deleted entry in its bucket's chain until the
 * table is rehashed, so replaying one hot key got slower with every replay: 17 µs per replay after 20,000
 * of them in a 12,000-record store, and the "Fastify, oncely MemoryStore, replay" row of `pnpm bench`
 * at 136 µs CPU per request against RedisStore's 71. Records in progress are never evicted, so only
 * completed ones are kept in LRU order: once per scope (to evict a scope's own) and once over all scopes.
 */
export class RecordRoom {
  readonly #limits: RoomLimits;
  readonly #onEvicted: (slot: Slot) => void;
  readonly #slots = new Map<string, Slot>();
  readonly #completed = new LruOrder<Slot>();
  readonly #scopes = new Map<string, ScopeRoom>();
  /** Scopes holding more than their share: the first to pay for room. */
  readonly #overShare = new Set<ScopeRoom>();
  #entries = 0;
  #bytes = 0;

  /** `onEvicted` is told of every completed record dropped for room (expired ones included). */
  constructor(limits: RoomLimits, onEvicted: (slot: Slot) => void) {
    this.#limits = limits;
    this.#onEvicted = onEvicted;
  }

  get entries(): number {
    return this.#entries;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(key: string): Slot | undefined {
    return this.#slots.get(key);
  }

  /**
   * Adds an in-progress record, making room if needed. `scope-share`: its scope already holds its share
   * of the entries in progress; `full`: no room can be made; in both cases nothing changed.
   */
  admit(key: string, scopeId: string, record: IdempotencyRecord): 'admitted' | 'full' | 'scope-share' {
    const bytes = recordBytes(key, record.fingerprint, undefined);
    const scope = this.#scopes.get(scopeId) ?? newScope(scopeId);
    const { maxEntries, scopeShare } = this.#limits;
    if (scope.inProgress >= Math.max(1, Math.floor(maxEntries * scopeShare))) {
      return scopeShare < 1 ? 'scope-share' : 'full';
    }
    if (!this.#makeRoom(scope, 1, bytes)) return 'full';
    this.#scopes.set(scopeId, scope);
    this.#slots.set(key, { key, scope, record, bytes, used: false });
    scope.inProgress++;
    this.#charge(scope, 1, bytes);
    return 'admitted';
  }

  /**
   * Completes `slot` with `response`, making room for its bytes. Returns false (and changes nothing)
   * when no room can be made for them, unless `force`d (then the bounds may be exceeded).
   */
  complete(slot: Slot, response: StoredResponse, force = false): boolean {
    const bytes = recordBytes(slot.key, slot.record.fingerprint, response);
    if (!this.#makeRoom(slot.scope, 0, bytes - slot.bytes) && !force) return false;
    slot.record.status = 'completed';
    slot.record.response = response;
    slot.scope.inProgress--;
    this.#charge(slot.scope, 0, bytes - slot.bytes);
    slot.bytes = bytes;
    slot.used = false;
    slot.scope.completed.add(slot.key, slot);
    this.#completed.add(slot.key, slot);
    return true;
  }

  /** Marks a completed record as used: eviction will move it to the back rather than drop it. */
  touch(slot: Slot): void {
    if (slot.record.status === 'completed') slot.used = true;
  }

  /**
   * The least recently used completed record of `order`, moving the ones used since to the back. The
   * record returned is evicted by the caller.
   */
  #oldest(order: LruOrder<Slot>): Slot | undefined {
    for (let slot = order.next(); slot !== undefined; slot = order.next()) {
      if (!slot.used) return slot;
      slot.used = false;
      slot.scope.completed.moveToBack(slot.key, slot);
      this.#completed.moveToBack(slot.key, slot);
    }
    return undefined;
  }

  remove(slot: Slot): void {
    if (this.#slots.get(slot.key) !== slot) return;
    this.#slots.delete(slot.key);
    if (slot.record.status === 'completed') {
      slot.scope.completed.delete(slot.key);
      this.#completed.delete(slot.key);
    } else {
      slot.scope.inProgress--;
    }
    this.#charge(slot.scope, -1, -slot.bytes);
    if (slot.scope.entries === 0) this.#scopes.delete(slot.scope.id);
  }

  /** Drops every record past its TTL; returns how many. */
  sweep(now: number): number {
    let dropped = 0;
    for (const slot of this.#slots.values()) {
      if (slot.record.expiresAt > now) continue;
      this.remove(slot);
      dropped++;
    }
    return dropped;
  }

  clear(): void {
    this.#slots.clear();
    this.#completed.clear();
    this.#scopes.clear();
    this.#overShare.clear();
    this.#entries = 0;
    this.#bytes = 0;
  }

  /** Evicts completed records until `entries` more records and `bytes` more bytes fit. */
  #makeRoom(scope: ScopeRoom, entries: number, bytes: number): boolean {
    const { maxEntries, maxBytes } = this.#limits;
    while (this.#entries + entries > maxEntries || this.#bytes + bytes > maxBytes) {
      const victim = this.#victimFor(scope, entries, bytes);
      if (victim === undefined) return false;
      this.remove(victim);
      this.#onEvicted(victim);
    }
    return true;
  }

  /**
   * Who pays for room: a scope over its share pays with its own least recently used completed record
   * (and, with none, gets no room); otherwise the scope furthest over its share pays; otherwise the
   * least recently used completed record of any scope. So a scope that floods the room evicts its own
   * records before anyone else's.
   */
  #victimFor(scope: ScopeRoom, entries: number, bytes: number): Slot | undefined {
    if (this.#usage(scope.entries + entries, scope.bytes + bytes) > this.#limits.scopeShare) {
      return this.#oldest(scope.completed);
    }
    let payer: ScopeRoom | undefined;
    for (const over of this.#overShare) {
      if (over.completed.size > 0 && (payer === undefined || this.#usageOf(over) > this.#usageOf(payer))) {
        payer = over;
      }
    }
    return this.#oldest(payer?.completed ?? this.#completed);
  }

  #charge(scope: ScopeRoom, entries: number, bytes: number): void {
    scope.entries += entries;
    scope.bytes += bytes;
    this.#entries += entries;
    this.#bytes += bytes;
    if (this.#usageOf(scope) > this.#limits.scopeShare) this.#overShare.add(scope);
    else this.#overShare.delete(scope);
  }

  /** The larger fraction of the two bounds that `entries` and `bytes` take. */
  #usage(entries: number, bytes: number): number {
    return Math.max(entries / this.#limits.maxEntries, bytes / this.#limits.maxBytes);
  }

  #usageOf(scope: ScopeRoom): number {
    return this.#usage(scope.entries, scope.bytes);
  }
}

function newScope(id: string): ScopeRoom {
  return { id, entries: 0, bytes: 0, inProgress: 0, completed: new LruOrder<Slot>() };
}
