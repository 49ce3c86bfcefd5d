import { describeKeyProblem, parseIdempotencyKeyHeader } from '@oncely/core';

/** The `Idempotency-Key` of a request: absent, unusable (with the reason), or a key. */
export type KeyHeaderResult =
  { kind: 'missing' } | { kind: 'invalid'; detail: string } | { kind: 'valid'; key: string };

function repeated(name: string): KeyHeaderResult {
  return {
    kind: 'invalid',
    detail: `The ${name} header was sent more than once (or holds ", ", which cannot be told apart from that).`,
  };
}

/**
 * Reads the key from the header, the same way in every adapter and for every header name (`name`, as
 * configured, only appears in the details). Accepts the draft's sf-string form and the bare form
 * (draft-ietf-httpapi-idempotency-key-header §2.1).
 *
 * Repeated header lines are refused. Node and the Web `Headers` both join them into one value with
 * `", "` (RFC 9110 §5.3), and a Web runtime shows nothing else, so the rule is read off that joined
 * value: a value holding `", "` may be two lines (`"k-a` and `b"` join into the valid-looking
 * `"k-a, b"`) and is refused, quoted or not. A bare key may hold no comma at all; a quoted key may hold
 * a comma not followed by a space.
 */
export function readKeyHeader(
  value: string | readonly string[] | undefined,
  name = 'Idempotency-Key',
): KeyHeaderResult {
  if (value === undefined) return { kind: 'missing' };
  let single: string;
  if (typeof value === 'string') {
    single = value;
  } else {
    if (value.length === 0) return { kind: 'missing' };
    if (value.length > 1) return repeated(name);
    single = value[0]!;
  }
  if (single.includes(', ')) return repeated(name);
  const parsed = parseIdempotencyKeyHeader(single);
  if (!parsed.ok) {
    const why =
      parsed.problem === 'malformed-quoted-string'
        ? 'it starts with a quote but is not one well-formed Structured Field string'
        : describeKeyProblem(parsed.problem);
    return { kind: 'invalid', detail: `The ${name} header is invalid: ${why}.` };
  }
  if (parsed.form === 'bare' && parsed.key.includes(',')) {
    return {
      kind: 'invalid',
      detail: `The ${name} header holds a comma: it was sent more than once, or a bare key holds a comma (send such a key quoted).`,
    };
  }
  return { kind: 'valid', key: parsed.key };
}
