/** Request header that carries the idempotency key (IETF draft-ietf-httpapi-idempotency-key-header). */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/** Response header set to `true` on a response replayed from the store. */
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

/**
 * Response headers by which a server tells a client to retry (`true`) or not (`false`), whatever the
 * status says. `x-should-retry` is the convention of the Stainless-generated SDKs (OpenAI, Anthropic);
 * `stripe-should-retry` is Stripe's.
 */
export const SHOULD_RETRY_HEADERS = ['x-should-retry', 'stripe-should-retry'] as const;

/** Something headers can be read from: a Web `Headers`, axios headers, or a plain (node) record. */
export type HeaderSource =
  | { get(name: string): unknown }
  | Readonly<Record<string, string | readonly string[] | number | null | undefined>>;

/**
 * Reads one header, case-insensitively, from any {@link HeaderSource}. A repeated header yields its
 * values joined with `, ` (RFC 9110 §5.3). Never throws: a source that cannot be read yields `undefined`.
 *
 * @internal Shared with the sibling packages; not part of the public API.
 */
export function readHeader(headers: HeaderSource | null | undefined, name: string): string | undefined {
  if (headers === null || headers === undefined || typeof headers !== 'object') return undefined;
  try {
    if (typeof (headers as { get?: unknown }).get === 'function') {
      return normalizeHeaderValue((headers as { get(name: string): unknown }).get(name));
    }
    const record = headers as Record<string, unknown>;
    const direct = record[name] ?? record[name.toLowerCase()];
    if (direct !== undefined) return normalizeHeaderValue(direct);
    const lower = name.toLowerCase();
    for (const key of Object.keys(record)) {
      if (key.toLowerCase() === lower) return normalizeHeaderValue(record[key]);
    }
  } catch {
    // A hostile getter must not turn a header read into a crash.
  }
  return undefined;
}

function normalizeHeaderValue(value: unknown): string | undefined {
  if (value === null || value === undefined || value === false) return undefined;
  if (Array.isArray(value)) {
    const parts = value.map(normalizeHeaderValue).filter((part) => part !== undefined);
    return parts.length === 0 ? undefined : parts.join(', ');
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}
