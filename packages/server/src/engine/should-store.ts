import { invalidOptionError } from '@oncely/core';
import type { ResponseHeaders } from './types.js';

/**
 * What becomes of a first response's key, as the app decides:
 * - `'store'`: keep it and replay it to every retry (whatever its status);
 * - `'release'`: free the key, so a retry runs the handler again;
 * - `'store-without-body'`: keep the key completed, but not the body (a response with a secret that
 *   must not sit in the store): replays answer the "not replayable" problem with the original status,
 *   and the handler never runs again for that key.
 */
export type StoreDecision = 'store' | 'release' | 'store-without-body';

/** What {@link ShouldStore} sees of a response: its status and headers, as they are sent. */
export interface ResponseSummary {
  status: number;
  /** Lower-case names; a repeated header's values joined with `", "`. */
  headers: Readonly<Record<string, string>>;
}

/**
 * Decides per first response what becomes of its key, or `undefined` for the default rules (kept,
 * except 408, 409, 423, 425, 429 and 5xx, which are released unless `replayServerErrors`). Called
 * once, synchronously, when the status and headers are final, before any body byte is kept.
 */
export type ShouldStore = (response: ResponseSummary) => StoreDecision | undefined;

const DECISIONS: ReadonlySet<unknown> = new Set(['store', 'release', 'store-without-body', undefined]);

/** Validates the `shouldStore` option. */
export function normalizeShouldStore(value: unknown): ShouldStore | undefined {
  if (value === undefined || typeof value === 'function') return value as ShouldStore | undefined;
  throw invalidOptionError('shouldStore', value, 'a function of the response');
}

/**
 * Asks `shouldStore` about a response. A function that throws or answers anything else keeps the
 * response without its body: the choice that is safe both ways (the handler never runs again, and
 * nothing it may have meant to withhold is replayed).
 */
export function decideStore(
  shouldStore: ShouldStore,
  status: number,
  headers: ResponseHeaders,
): StoreDecision | undefined {
  try {
    const decision = shouldStore({ status, headers: summarizeHeaders(headers) });
    return DECISIONS.has(decision) ? decision : 'store-without-body';
  } catch {
    return 'store-without-body';
  }
}

function summarizeHeaders(headers: ResponseHeaders): Record<string, string> {
  const summary: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    const text = Array.isArray(value) ? value.join(', ') : String(value);
    summary[lower] = lower in summary ? `${summary[lower]}, ${text}` : text;
  }
  return summary;
}
