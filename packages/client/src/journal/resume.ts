import { invalidOptionError } from '@oncely/core';
import { ClientErrorCode, OncelyClientError } from '../errors.js';
import type { OncelyFetch } from '../fetch.js';
import { type CallOutcome, type JournalBinding } from './journal-binding.js';
import { bodyFromJournal } from './journal-body.js';
import { bindingOf } from './journaled-fetch.js';
import type { JournalEntry } from './types.js';

/** The server's default `ttl`: past it the server has forgotten the key. */
export const DEFAULT_MAX_AGE = 24 * 60 * 60 * 1000;

/** Options of {@link resumePending}. Every field is optional. */
export interface ResumeOptions {
  /**
   * Operations recorded longer ago than this (ms) are dropped — removed and reported to `onDrop` —
   * instead of re-sent. Keep it at most at the server's `ttl`: past it the server no longer knows the
   * key and would run the operation again even if it already ran.
   * @default 86_400_000 (24 h, the server's default ttl)
   */
  maxAge?: number | undefined;
  /**
   * Headers for each resumed call, set over the journaled ones: fresh credentials (the journal does
   * not keep them). A hook that throws or rejects leaves that operation pending and fails its promise.
   * @default undefined
   */
  headers?: ((entry: JournalEntry) => HeadersInit | undefined | Promise<HeadersInit | undefined>) | undefined;
  /** Most resumed calls in flight at once. @default 4 */
  concurrency?: number | undefined;
  /** Stops resuming: calls in flight are aborted, the others not started; all stay pending. @default undefined */
  signal?: AbortSignal | undefined;
  /** Called for each operation dropped instead of re-sent. @default undefined */
  onDrop?: ((event: DropEvent) => void) | undefined;
  /** Called as each resumed operation settles. @default undefined */
  onSettle?: ((outcome: ResumeOutcome) => void) | undefined;
}

/** An operation `resumePending` dropped instead of re-sending. */
export interface DropEvent {
  readonly entry: JournalEntry;
  /** ms since it was recorded. */
  readonly age: number;
  /** `older than maxAge (… ms)`, or what is wrong with a malformed entry. */
  readonly reason: string;
}

/** How a resumed operation ended: its response or error, and whether it is still pending. */
export type ResumeOutcome = CallOutcome;

/** One operation being re-sent. */
export interface ResumedOperation {
  readonly entry: JournalEntry;
  /** Settles as the call would have: the final response, or its error. */
  readonly response: Promise<Response>;
}

/** What {@link resumePending} started. */
export interface ResumeRun {
  /** The operations re-sent, oldest first. */
  readonly operations: readonly ResumedOperation[];
  /** The operations dropped (too old or malformed). */
  readonly dropped: readonly JournalEntry[];
  /** Every resumed operation's outcome, once all settled; rejects only if `onSettle` throws. */
  readonly settled: Promise<ResumeOutcome[]>;
}

/**
 * Re-sends every operation pending in the journal of `fetch` (a client made by
 * `createFetch({ journal })`) with its original key, method, URL, journaled headers and body, under
 * the client's retry policy, budget and deadline. Operations with a call in flight in this process
 * are left to it. Settled operations leave the journal; the others stay for the next resume.
 *
 * Resolves once the journal is read and the calls are started; each operation's `response` and the
 * `settled` promise tell how they end.
 */
export async function resumePending(fetch: OncelyFetch, options: ResumeOptions = {}): Promise<ResumeRun> {
  const binding = bindingOf(fetch);
  if (binding === undefined) {
    throw invalidOptionError('fetch', fetch, 'a client made by createFetch({ journal })');
  }
  const settings = normalizeResumeOptions(options);
  let entries: JournalEntry[];
  try {
    entries = [...(await binding.journal.backend.list())];
  } catch (cause) {
    throw new OncelyClientError(ClientErrorCode.journalFailed, `The journal could not be read: ${cause}`, {
      cause,
    });
  }
  const now = Date.now();
  const due: JournalEntry[] = [];
  const dropped: JournalEntry[] = [];
  for (const entry of entries.sort((a, b) => a.createdAt - b.createdAt)) {
    if (binding.isActive(entry.id)) continue;
    const age = now - entry.createdAt;
    const reason =
      entryProblem(entry) ??
      (age > settings.maxAge ? `older than maxAge (${settings.maxAge} ms)` : undefined);
    if (reason === undefined) {
      due.push(entry);
      continue;
    }
    if (typeof entry.id === 'string' && typeof entry.idempotencyKey === 'string') {
      try {
        await binding.journal.backend.remove(entry.id, entry.idempotencyKey);
      } catch (error) {
        binding.journal.onError(error, entry);
      }
    }
    dropped.push(entry);
    settings.onDrop?.({ entry, age, reason });
  }
  const limit = limiter(settings.concurrency);
  const outcomes = due.map((entry) => limit(() => resumeOne(binding, entry, settings)));
  const operations = due.map((entry, i) => {
    const response = outcomes[i]!.then((outcome) =>
      'error' in outcome ? Promise.reject(outcome.error) : outcome.response,
    );
    // The caller may only await `settled`: a failed operation must not be an unhandled rejection.
    response.catch(() => undefined);
    return Object.freeze({ entry, response });
  });
  const settled = Promise.all(
    outcomes.map((outcome) =>
      outcome.then((value) => {
        settings.onSettle?.(value);
        return value;
      }),
    ),
  );
  return Object.freeze({ operations: Object.freeze(operations), dropped: Object.freeze(dropped), settled });
}

export type ResolvedResumeOptions = { readonly maxAge: number; readonly concurrency: number } & Pick<
  ResumeOptions,
  'headers' | 'signal' | 'onDrop' | 'onSettle'
>;

async function resumeOne(
  binding: JournalBinding,
  entry: JournalEntry,
  { headers: fresh, signal }: ResolvedResumeOptions,
): Promise<ResumeOutcome> {
  if (signal?.aborted) return { entry, pending: true, error: signal.reason };
  try {
    const headers = new Headers(entry.headers);
    const extra = fresh === undefined ? undefined : await fresh(entry);
    if (extra !== undefined) new Headers(extra).forEach((value, name) => headers.set(name, value));
    return await binding.send({
      entry,
      input: entry.url,
      init: {
        method: entry.method,
        headers,
        body: bodyFromJournal(entry.body),
        ...(signal === undefined ? {} : { signal }),
      },
    });
  } catch (error) {
    return { entry, pending: true, error };
  }
}

/** Checks `resumePending`'s options once; a bad value throws naming the option. */
export function normalizeResumeOptions(options: ResumeOptions): ResolvedResumeOptions {
  if (typeof options !== 'object' || options === null)
    throw invalidOptionError('options', options, 'an object');
  const { maxAge = DEFAULT_MAX_AGE, concurrency = 4, headers, signal, onDrop, onSettle } = options;
  if (typeof maxAge !== 'number' || Number.isNaN(maxAge) || maxAge <= 0) {
    throw invalidOptionError('maxAge', maxAge, 'a positive number of milliseconds (or Infinity)');
  }
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw invalidOptionError('concurrency', concurrency, 'a positive integer');
  }
  for (const [name, hook] of Object.entries({ headers, onDrop, onSettle })) {
    if (hook !== undefined && typeof hook !== 'function') throw invalidOptionError(name, hook, 'a function');
  }
  if (signal !== undefined && typeof (signal as Partial<AbortSignal> | null)?.aborted !== 'boolean') {
    throw invalidOptionError('signal', signal, 'an AbortSignal');
  }
  return { maxAge, concurrency, headers, signal, onDrop, onSettle };
}

/** What is wrong with an entry a backend returned, or `undefined`. */
function entryProblem(entry: JournalEntry): string | undefined {
  const e = entry as Partial<Record<keyof JournalEntry, unknown>>;
  if (typeof e.id !== 'string' || typeof e.idempotencyKey !== 'string')
    return 'malformed entry: no id or key';
  if (typeof e.method !== 'string' || typeof e.url !== 'string') return 'malformed entry: no method or URL';
  if (typeof e.createdAt !== 'number' || !Number.isFinite(e.createdAt))
    return 'malformed entry: no createdAt';
  if (typeof e.headers !== 'object' || e.headers === null) return 'malformed entry: no headers';
  const body = e.body as Record<string, unknown> | null;
  if (body !== null && typeof body?.text !== 'string' && typeof body?.base64 !== 'string') {
    return 'malformed entry: a body that is neither text nor base64';
  }
  return undefined;
}

/** Runs at most `max` tasks at once, in the order they were handed in. */
function limiter(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async function limited<T>(task: () => Promise<T>): Promise<T> {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}
