/**
 * At most `limit` holders at once; the others wait, first come first served. Transactional mode takes a
 * turn before it checks a connection out for a handler, so held transactions never take the whole pool:
 * the claims, lease extensions and releases of every request always find a connection (issue #12).
 */
export class TransactionTurns {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.#free = limit;
  }

  /** Resolves when it is the caller's turn, to the function that ends it (calling it twice is harmless). */
  async take(): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const next = this.#waiting.shift();
      if (next === undefined) this.#free++;
      else next();
    };
  }
}
