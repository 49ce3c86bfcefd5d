import { invalidOptionError } from '@oncely/core';
import type { Journal, JournalEntry, JournalSettings } from './types.js';

/** The `journal` option after normalisation. */
export interface ResolvedJournal {
  readonly backend: Journal;
  /** Credential header names (lower case) journaled anyway. */
  readonly keepHeaders: ReadonlySet<string>;
  readonly onError: (error: unknown, entry: JournalEntry) => void;
}

/** Turns `createFetch`'s `journal` option into {@link ResolvedJournal}; `undefined`: no journal. */
export function normalizeJournalOption(
  value: Journal | JournalSettings | undefined,
): ResolvedJournal | undefined {
  if (value === undefined) return undefined;
  if (isJournal(value))
    return Object.freeze({ backend: value, keepHeaders: new Set<string>(), onError: warn });
  if (typeof value !== 'object' || value === null || !('backend' in value)) {
    throw invalidOptionError(
      'journal',
      value,
      'a journal (an object with record, remove and list) or { backend, keepHeaders?, onError? }',
    );
  }
  const { backend, keepHeaders = [], onError = warn } = value;
  if (!isJournal(backend)) {
    throw invalidOptionError(
      'journal.backend',
      backend,
      'a journal (an object with record, remove and list)',
    );
  }
  if (!Array.isArray(keepHeaders) || !keepHeaders.every((name) => typeof name === 'string')) {
    throw invalidOptionError('journal.keepHeaders', keepHeaders, 'an array of header names');
  }
  if (typeof onError !== 'function') throw invalidOptionError('journal.onError', onError, 'a function');
  return Object.freeze({
    backend,
    keepHeaders: new Set(keepHeaders.map((name) => name.toLowerCase())),
    onError,
  });
}

function isJournal(value: unknown): value is Journal {
  if (typeof value !== 'object' || value === null) return false;
  const { record, remove, list } = value as Partial<Journal>;
  return typeof record === 'function' && typeof remove === 'function' && typeof list === 'function';
}

function warn(error: unknown, entry: JournalEntry): void {
  console.warn(
    `[oncely] journal entry ${entry.id} could not be removed; a later resumePending() will re-send it and get the server's stored answer:`,
    error,
  );
}

/** Held by the journal as the entry's key, or recomputed by fetch: never journaled as a header. */
const NOT_JOURNALED = new Set(['idempotency-key', 'content-length']);
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);
/** A name segment that reads as a credential: `x-api-key`, `x-auth-token`, `x-csrf-token`, `x-session-id`… */
const CREDENTIAL_SEGMENT =
  /(?:^|-)(?:api-?key|auth|authorization|authentication|token|secret|session|password|signature|credentials?)(?:-|$)/;

/**
 * The headers a journal entry keeps: every header except the key, `content-length` and credentials
 * (unless named in `keep`). A journal sits on disk or in IndexedDB for hours; a bearer token there
 * outlives its purpose, and a resumed call should carry fresh credentials anyway.
 */
export function replayableHeaders(headers: Headers, keep: ReadonlySet<string>): Record<string, string> {
  const kept: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (NOT_JOURNALED.has(name)) return;
    if ((CREDENTIAL_HEADERS.has(name) || CREDENTIAL_SEGMENT.test(name)) && !keep.has(name)) return;
    kept[name] = value;
  });
  return kept;
}
