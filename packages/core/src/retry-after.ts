import { type HeaderSource, readHeader } from './headers.js';
import { parseHttpDate } from './http-date.js';

/** Where a server's wait hint came from. */
export type RetryAfterSource = 'retry-after-ms' | 'retry-after' | 'ratelimit-reset';

/** A server's request to wait before retrying. */
export interface RetryAfterHint {
  /** How long to wait, in ms, after capping at `max`. */
  delay: number;
  /** The header it came from. */
  source: RetryAfterSource;
  /** Whether the server asked for more than `max` and the delay was cut to it. */
  capped: boolean;
}

/** Options of {@link parseRetryAfter}. */
export interface ParseRetryAfterOptions {
  /** Current epoch ms, used only when the response has no valid `Date` header. @default Date.now() */
  now?: number | undefined;
  /** Longest delay honoured, in ms; longer hints are cut to it. @default Infinity */
  max?: number | undefined;
}

/**
 * Reads how long a response asks the client to wait, from (first match wins):
 * 1. `retry-after-ms`: milliseconds, fractional allowed (the OpenAI/Azure convention);
 * 2. `Retry-After` (RFC 9110 §10.2.3): delta-seconds, or an HTTP-date in any of its three formats,
 *    measured against the response's own `Date` header when it has one, so a client whose clock is
 *    skewed waits what the server meant;
 * 3. `RateLimit-Reset` delta-seconds, or the `t=`/`reset=` parameter of a `RateLimit` field
 *    (draft-ietf-httpapi-ratelimit-headers).
 * Pure and total: garbage, negatives and unreadable headers give `undefined` ("no hint"); never throws.
 */
export function parseRetryAfter(
  headers: HeaderSource | null | undefined,
  options: ParseRetryAfterOptions = {},
): RetryAfterHint | undefined {
  try {
    const max = typeof options.max === 'number' && options.max >= 0 ? options.max : Number.POSITIVE_INFINITY;
    const found = findHint(headers, options.now);
    if (found === undefined) return undefined;
    const [delay, source] = found;
    return delay > max ? { delay: max, source, capped: true } : { delay, source, capped: false };
  } catch {
    return undefined;
  }
}

function findHint(
  headers: HeaderSource | null | undefined,
  nowOption: number | undefined,
): [number, RetryAfterSource] | undefined {
  const ms = readHeader(headers, 'retry-after-ms')?.trim();
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms)) {
    const value = Number(ms);
    if (Number.isFinite(value)) return [Math.ceil(value), 'retry-after-ms'];
  }

  const retryAfter = readHeader(headers, 'retry-after')?.trim();
  if (retryAfter !== undefined && retryAfter !== '') {
    if (/^\d+$/.test(retryAfter)) return [secondsToMs(retryAfter), 'retry-after'];
    const now = typeof nowOption === 'number' && Number.isFinite(nowOption) ? nowOption : Date.now();
    const at = parseHttpDate(retryAfter, now);
    if (at !== undefined) {
      const dateHeader = readHeader(headers, 'date');
      const reference = dateHeader === undefined ? undefined : parseHttpDate(dateHeader, now);
      return [Math.max(0, at - (reference ?? now)), 'retry-after'];
    }
  }

  const reset = readHeader(headers, 'ratelimit-reset')?.trim();
  if (reset !== undefined && /^\d+$/.test(reset)) return [secondsToMs(reset), 'ratelimit-reset'];
  const field = readHeader(headers, 'ratelimit');
  if (field !== undefined) {
    const param = /(?:^|[;,\s])(?:t|reset)=(\d+)(?=$|[;,\s])/.exec(field);
    if (param) return [secondsToMs(param[1]!), 'ratelimit-reset'];
  }
  return undefined;
}

/** Whole seconds to ms; absurd values saturate instead of overflowing to Infinity. */
function secondsToMs(digits: string): number {
  const seconds = Number(digits);
  return Number.isFinite(seconds)
    ? Math.min(seconds * 1000, Number.MAX_SAFE_INTEGER)
    : Number.MAX_SAFE_INTEGER;
}
