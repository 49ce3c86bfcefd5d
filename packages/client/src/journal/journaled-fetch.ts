import type { FetchOptions, OncelyFetch } from '../fetch.js';
import { JournalBinding } from './journal-binding.js';
import { normalizeJournalOption } from './journal-option.js';

/**
 * Where a journaled client keeps its binding: a global symbol, not a module-level WeakMap, because
 * the CJS build bundles `@oncely/client` and `@oncely/client/journal` separately and `resumePending`
 * from one must find what `createFetch` from the other attached.
 */
const BINDING = Symbol.for('oncely.client.journal');

/**
 * Wraps a client's fetch with its `journal` option: each keyed call is recorded before its first
 * attempt and removed once the server kept an answer. Without a journal, `run` itself is returned,
 * so a client without one pays nothing.
 */
export function journalFetch(run: OncelyFetch, options: FetchOptions): OncelyFetch {
  const journal = normalizeJournalOption(options.journal);
  if (journal === undefined) return run;
  const binding = new JournalBinding(run, journal, options.keyGenerator ?? 'v4');
  const journaledFetch: OncelyFetch = function journaledFetch(input, init) {
    return binding.fetch(input, init);
  };
  Object.defineProperty(journaledFetch, BINDING, { value: binding });
  return journaledFetch;
}

/** The journal binding of a client made by `createFetch({ journal })`, or `undefined`. */
export function bindingOf(fetch: unknown): JournalBinding | undefined {
  if (typeof fetch !== 'function') return undefined;
  const binding = (fetch as unknown as Record<symbol, unknown>)[BINDING] as JournalBinding | undefined;
  // Not `instanceof`: each CJS bundle has its own copy of the class.
  return typeof binding?.send === 'function' ? binding : undefined;
}
