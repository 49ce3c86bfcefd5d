import { invalidOptionError } from '@oncely/core';

/**
 * Response headers replayed by default: they describe the representation and its caching, so a
 * replay without them would be a different response.
 */
export const DEFAULT_REPLAY_HEADERS: readonly string[] = [
  'content-type',
  'content-language',
  'content-location',
  'content-disposition',
  'content-encoding',
  'location',
  'etag',
  'last-modified',
  'cache-control',
  'expires',
  'vary',
  'retry-after',
  'link',
];

/**
 * Headers never replayed, whatever the options say: cookies and credentials belong to one exchange,
 * hop-by-hop fields to one connection (RFC 9110 §7.6.1), and the framework computes the length.
 */
const NEVER_REPLAYED = new Set([
  'set-cookie',
  'set-cookie2',
  'authorization',
  'www-authenticate',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-length',
  'date',
  'idempotent-replayed',
]);

/** Whether `name` (lower-case) may never be replayed. */
export function isNeverReplayed(name: string): boolean {
  return NEVER_REPLAYED.has(name) || name.startsWith('proxy-');
}

/** Builds the allow-list from the user's extra names; refuses the names that are never replayed. */
export function normalizeReplayHeaders(extra: unknown): ReadonlySet<string> {
  const names = new Set(DEFAULT_REPLAY_HEADERS);
  if (extra === undefined) return names;
  const expected = 'an array of header names (never Set-Cookie, auth, proxy-* or hop-by-hop headers)';
  if (!Array.isArray(extra)) throw invalidOptionError('replayHeaders', extra, expected);
  for (const name of extra as unknown[]) {
    if (typeof name !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw invalidOptionError('replayHeaders', name, expected);
    }
    const lower = name.toLowerCase();
    if (isNeverReplayed(lower)) throw invalidOptionError('replayHeaders', name, expected);
    names.add(lower);
  }
  return names;
}

/** Keeps the allowed headers, lower-cased, in order; repeated values become separate entries. */
export function selectReplayHeaders(
  headers: Iterable<readonly [string, string | number | readonly string[]]>,
  allowed: ReadonlySet<string>,
): Array<[string, string]> {
  const kept: Array<[string, string]> = [];
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (!allowed.has(lower) || isNeverReplayed(lower)) continue;
    if (Array.isArray(value)) {
      for (const item of value as readonly string[]) kept.push([lower, String(item)]);
    } else {
      kept.push([lower, String(value)]);
    }
  }
  return kept;
}
