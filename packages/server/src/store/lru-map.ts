interface Entry<V> {
  readonly key: string;
  value: V;
  older: Entry<V> | undefined;
  newer: Entry<V> | undefined;
}

/**
 * A `Map` that also keeps its keys in least-recently-used order, in a linked list beside it. Marking
 * a key as used moves it in the list, not in the Map: deleting a key and setting it again (the usual
 * Map-as-LRU trick) costs V8 tens of microseconds on a Map of 10,000 entries, where this is O(1).
 */
export class LruMap<V> {
  readonly #entries = new Map<string, Entry<V>>();
  #oldest: Entry<V> | undefined;
  #newest: Entry<V> | undefined;

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): V | undefined {
    return this.#entries.get(key)?.value;
  }

  /** Adds `key` as the most recently used, or replaces its value and marks it used. */
  set(key: string, value: V): void {
    const found = this.#entries.get(key);
    if (found !== undefined) {
      found.value = value;
      this.touch(key);
      return;
    }
    const entry: Entry<V> = { key, value, older: this.#newest, newer: undefined };
    if (this.#newest === undefined) this.#oldest = entry;
    else this.#newest.newer = entry;
    this.#newest = entry;
    this.#entries.set(key, entry);
  }

  /** Marks `key` as the most recently used. */
  touch(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry === this.#newest) return;
    this.#unlink(entry);
    entry.older = this.#newest;
    entry.newer = undefined;
    this.#newest!.newer = entry;
    this.#newest = entry;
  }

  delete(key: string): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    this.#entries.delete(key);
    this.#unlink(entry);
    return true;
  }

  /** Drops the least recently used key; false when empty. */
  deleteOldest(): boolean {
    const oldest = this.#oldest;
    if (oldest === undefined) return false;
    return this.delete(oldest.key);
  }

  clear(): void {
    this.#entries.clear();
    this.#oldest = undefined;
    this.#newest = undefined;
  }

  #unlink(entry: Entry<V>): void {
    const { older, newer } = entry;
    if (older === undefined) this.#oldest = newer;
    else older.newer = newer;
    if (newer === undefined) this.#newest = older;
    else newer.older = older;
  }
}
