import type { Span } from '@opentelemetry/api';

/** Spans of claimed requests still running, at most this many (a safety net: executions settle). */
const MAX_OPEN = 10_000;

/**
 * The `oncely.idempotency` spans of claimed requests, from the claim to the outcome, found again by
 * store key and fencing token. Events that carry no token (a release, a store failure) belong to the
 * newest claim of the key: only the current holder can release, and two holders of one key exist
 * only between a takeover and the late result of the request that lost it.
 */
export class OpenSpans {
  readonly #byKey = new Map<string, Map<number, Span>>();
  #size = 0;

  add(storeKey: string, fencingToken: number, span: Span, evict: (span: Span) => void): void {
    if (this.#size >= MAX_OPEN) {
      const [oldestKey, tokens] = this.#byKey.entries().next().value!;
      const [oldestToken, oldest] = tokens.entries().next().value!;
      this.#remove(oldestKey, oldestToken);
      evict(oldest);
    }
    let tokens = this.#byKey.get(storeKey);
    if (tokens === undefined) this.#byKey.set(storeKey, (tokens = new Map()));
    tokens.set(fencingToken, span);
    this.#size++;
  }

  /** The span of the claim with `fencingToken` (newest claim of the key without one), if open. */
  peek(storeKey: string, fencingToken?: number): Span | undefined {
    const tokens = this.#byKey.get(storeKey);
    if (tokens === undefined) return undefined;
    return tokens.get(fencingToken ?? Math.max(...tokens.keys()));
  }

  /** Like {@link peek}, and forgets it. */
  take(storeKey: string, fencingToken?: number): Span | undefined {
    const tokens = this.#byKey.get(storeKey);
    if (tokens === undefined) return undefined;
    const token = fencingToken ?? Math.max(...tokens.keys());
    const span = tokens.get(token);
    if (span !== undefined) this.#remove(storeKey, token);
    return span;
  }

  #remove(storeKey: string, fencingToken: number): void {
    const tokens = this.#byKey.get(storeKey);
    if (tokens?.delete(fencingToken) !== true) return;
    this.#size--;
    if (tokens.size === 0) this.#byKey.delete(storeKey);
  }
}
