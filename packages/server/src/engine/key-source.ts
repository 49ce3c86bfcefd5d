import {
  IDEMPOTENCY_KEY_HEADER,
  OncelyError,
  ProblemType,
  checkIdempotencyKey,
  describeKeyProblem,
  describeValue,
  invalidOptionError,
  readHeader,
} from '@oncely/core';
import { readKeyHeader } from './key-header.js';
import type { KeyHeaderResult } from './key-header.js';
import { problemResponse } from './problems.js';
import type { PreparedResponse, RequestHead } from './types.js';

/**
 * Where the idempotency key of a request comes from.
 * - `{ header }`: a request header, read by the same rules as `Idempotency-Key` (a repeated line is
 *   refused with 400, the quoted Structured-Field string form is accepted), e.g. PayPal's
 *   `PayPal-Request-Id`.
 * - a function of the framework's request and the raw body bytes (at most `maxRequestBytes` of them),
 *   resolving to the key or `undefined` when the request has none: a webhook's event id, a message id.
 *   Its result must be a valid key as it is (1–255 printable ASCII characters); a throw goes where a
 *   throwing `scope` goes. Every request of a protected method then has its body read (up to
 *   `maxRequestBytes`, past it 413), since the key may be in it.
 */
export type KeySource<Req> =
  { header: string } | ((request: Req, body: Uint8Array) => string | undefined | Promise<string | undefined>);

/** {@link KeySource}, validated. */
export type ResolvedKeySource<Req> =
  | {
      kind: 'header';
      /** As configured, for problem details. */
      name: string;
      /** The `Idempotency-Key` header, which adapters hand over as `RequestHead.keyHeader`. */
      isDefault: boolean;
    }
  | { kind: 'function'; read: (request: Req, body: Uint8Array) => unknown };

/** The default: the `Idempotency-Key` header. */
export const DEFAULT_KEY_SOURCE: Extract<ResolvedKeySource<never>, { kind: 'header' }> = {
  kind: 'header',
  name: IDEMPOTENCY_KEY_HEADER,
  isDefault: true,
};

/** RFC 9110 §5.1: a field name is a token. */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Validates the `key` option.
 * @throws {OncelyError} `ERR_ONCELY_INVALID_OPTION`, naming the option and the value.
 */
export function normalizeKeySource<Req>(value: unknown): ResolvedKeySource<Req> {
  if (value === undefined) return DEFAULT_KEY_SOURCE;
  if (typeof value === 'function') {
    return { kind: 'function', read: value as (request: Req, body: Uint8Array) => unknown };
  }
  if (typeof value !== 'object' || value === null) {
    throw invalidOptionError('key', value, "{ header: 'Header-Name' } or a function of the request");
  }
  const { header } = value as { header?: unknown };
  if (typeof header !== 'string' || !FIELD_NAME.test(header)) {
    throw invalidOptionError('key.header', header, 'an HTTP field name, such as PayPal-Request-Id');
  }
  return { kind: 'header', name: header, isDefault: header.toLowerCase() === 'idempotency-key' };
}

/** The key header of `request` under `source` (a header source), read by the shared rules. */
export function readKeyFromHead(
  source: Extract<ResolvedKeySource<never>, { kind: 'header' }>,
  request: RequestHead,
): KeyHeaderResult {
  const value = source.isDefault ? request.keyHeader : readHeader(request.headers, source.name);
  return readKeyHeader(value, source.name);
}

/** The key a function source finds in the request; a throw or rejection propagates. */
export async function readKeyFromRequest<Req>(
  read: (request: Req, body: Uint8Array) => unknown,
  request: Req,
  body: Uint8Array,
): Promise<KeyHeaderResult> {
  const key = await read(request, body);
  if (key === undefined) return { kind: 'missing' };
  if (typeof key !== 'string') {
    throw new OncelyError(
      'ERR_ONCELY_INVALID_KEY_SOURCE',
      `The \`key\` function must return a string or undefined, got ${describeValue(key)}.`,
    );
  }
  const problem = checkIdempotencyKey(key);
  if (problem === undefined) return { kind: 'valid', key };
  return {
    kind: 'invalid',
    detail: `The idempotency key of this request is invalid: ${describeKeyProblem(problem)}.`,
  };
}

/** The 400 answer to a request whose key is missing (when `required`) or invalid. */
export function keyProblemResponse(
  result: Exclude<KeyHeaderResult, { kind: 'valid' }>,
  method: string,
  source: ResolvedKeySource<never>,
): PreparedResponse {
  if (result.kind === 'invalid') {
    return problemResponse(ProblemType.keyInvalid, { detail: result.detail });
  }
  const detail =
    source.kind === 'header'
      ? `${method} requests to this endpoint need ${/^[aeiou]|^x-/i.test(source.name) ? 'an' : 'a'} ${source.name} header.`
      : `${method} requests to this endpoint need an idempotency key.`;
  return problemResponse(ProblemType.keyMissing, { detail });
}
