import { describeKeyProblem, parseIdempotencyKeyHeader } from '@oncely/core';

/** The `Idempotency-Key` of a request: absent, unusable (with the reason), or a key. */
export type KeyHeaderResult =
  { kind: 'missing' } | { kind: 'invalid'; detail: string } | { kind: 'valid'; key: string };

/**
 * Reads the key from the header value(s). Accepts the draft's sf-string form and the bare form
 * (draft-ietf-httpapi-idempotency-key-header §2.1). A bare key may not hold a comma: RFC 9110 §5.3
 * lets intermediaries fold repeated header lines into one comma-separated line, so a comma in a bare
 * value cannot be told apart from two keys. Send such keys quoted.
 */
export function readKeyHeader(value: string | readonly string[] | undefined): KeyHeaderResult {
  if (value === undefined) return { kind: 'missing' };
  let single: string;
  if (typeof value === 'string') {
    single = value;
  } else {
    if (value.length === 0) return { kind: 'missing' };
    if (value.length > 1)
      return { kind: 'invalid', detail: 'The Idempotency-Key header was sent more than once.' };
    single = value[0]!;
  }
  const parsed = parseIdempotencyKeyHeader(single);
  if (!parsed.ok) {
    const why =
      parsed.problem === 'malformed-quoted-string'
        ? 'it starts with a quote but is not one well-formed Structured Field string'
        : describeKeyProblem(parsed.problem);
    return { kind: 'invalid', detail: `The Idempotency-Key header is invalid: ${why}.` };
  }
  if (parsed.form === 'bare' && parsed.key.includes(',')) {
    return {
      kind: 'invalid',
      detail:
        'The Idempotency-Key header holds a comma: it was sent more than once, or a bare key holds a comma (send such a key quoted).',
    };
  }
  return { kind: 'valid', key: parsed.key };
}
