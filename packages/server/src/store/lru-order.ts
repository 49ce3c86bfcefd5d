/**
 * Keys in least-recently-used order: a Map's insertion order, read from the front through one cursor
 * kept across calls.
 *
 * V8 leaves a deleted Map entry in place until the table is rehashed, so a fresh `map.values()` walks
 * past every entry deleted from the front since: evicting the oldest record of a full 10,000-record
 * store took 8 µs that way, 0.5 µs with the cursor (the "oncely MemoryStore, first" rows of
 * `pnpm bench` run with a full store, one eviction per request). The cursor is valid because every
 * entry {@link LruOrder.next} hands out is then deleted or moved to the back: nothing behind the cursor
 * is still in the map, and a live Map iterator sees entries added after it was made.
 */
export class LruOrder<T> {
  readonly #entries = new Map<string, T>();
  #cursor: MapIterator<T> | undefined;

  get size(): number {
    return this.#entries.size;
  }

  /** Adds `value` as the most recently used. */
  add(key: string, value: T): void {
    this.#entries.set(key, value);
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Makes `key` the most recently used. */
  moveToBack(key: string, value: T): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
  }

  /**
   * The least recently used value not handed out yet. The caller must then delete it or move it to
   * the back (see the class comment).
   */
  next(): T | undefined {
    let step = this.#cursor?.next();
    if (step === undefined || step.done === true) {
      this.#cursor = this.#entries.values();
      step = this.#cursor.next();
    }
    return step.done === true ? undefined : step.value;
  }

  clear(): void {
    this.#entries.clear();
    this.#cursor = undefined;
  }
}
