import { v4 as uuidv4, v7 as uuidv7 } from 'uuid';
import { CoreErrorCode, OncelyError, describeValue, invalidOptionError } from './errors.js';

/** Longest key accepted, in characters (DESIGN: printable ASCII, 1–255). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** How a new key is made: a UUID version, or the caller's own generator. */
export type KeyGenerator = 'v4' | 'v7' | (() => string);

/**
 * Mints a new idempotency key. UUID v4 by default; v7 when the caller wants keys that sort by time
 * (handy as database keys). Uses `uuid`, which works where `crypto.randomUUID` is missing (browsers on
 * plain http). A custom generator's result is validated like any key.
 *
 * @throws {OncelyError} `ERR_ONCELY_INVALID_OPTION` for an unknown generator,
 *   `ERR_ONCELY_INVALID_KEY` when a custom generator returns an invalid key.
 */
export function generateIdempotencyKey(generator: KeyGenerator = 'v4'): string {
  if (generator === 'v4') return uuidv4();
  if (generator === 'v7') return uuidv7();
  if (typeof generator !== 'function') {
    throw invalidOptionError('keyGenerator', generator, "'v4', 'v7' or a function returning a key");
  }
  return assertIdempotencyKey(generator(), 'keyGenerator()');
}

/** Why a key was refused; `undefined` when it is valid. */
export type KeyProblem = 'empty' | 'too-long' | 'not-printable-ascii' | 'not-a-string';

/**
 * Checks a key against the rules shared by client and server: a string of 1–255 printable ASCII
 * characters (0x20–0x7E) that neither starts nor ends with a space. Returns the problem, or `undefined`.
 */
export function checkIdempotencyKey(key: unknown): KeyProblem | undefined {
  if (typeof key !== 'string') return 'not-a-string';
  if (key.length === 0) return 'empty';
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) return 'too-long';
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return 'not-printable-ascii';
  }
  if (key.charCodeAt(0) === 0x20 || key.charCodeAt(key.length - 1) === 0x20) return 'not-printable-ascii';
  return undefined;
}

/** Whether `key` is a valid idempotency key (see {@link checkIdempotencyKey}). */
export function isValidIdempotencyKey(key: unknown): key is string {
  return checkIdempotencyKey(key) === undefined;
}

const KEY_PROBLEM_TEXT: Record<KeyProblem, string> = {
  empty: 'it is empty',
  'too-long': `it is longer than ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
  'not-printable-ascii': 'it holds characters outside printable ASCII, or leading/trailing spaces',
  'not-a-string': 'it is not a string',
};

/**
 * A sentence saying why a key is invalid, for error messages and problem details.
 *
 * @internal Shared with the sibling packages; not part of the public API.
 */
export function describeKeyProblem(problem: KeyProblem): string {
  return KEY_PROBLEM_TEXT[problem];
}

/**
 * Returns `key` when valid, otherwise throws an `ERR_ONCELY_INVALID_KEY` error naming `source`.
 */
export function assertIdempotencyKey(key: unknown, source = 'idempotencyKey'): string {
  const problem = checkIdempotencyKey(key);
  if (problem === undefined) return key as string;
  throw new OncelyError(
    CoreErrorCode.invalidKey,
    `Invalid idempotency key from \`${source}\`: ${describeKeyProblem(problem)} (got ${describeValue(key)}).`,
  );
}

/** Result of {@link parseIdempotencyKeyHeader}. */
export type ParsedKeyHeader =
  | { ok: true; key: string; form: 'bare' | 'quoted' }
  | { ok: false; problem: KeyProblem | 'malformed-quoted-string' };

/**
 * Parses an `Idempotency-Key` header value in either form the server accepts:
 * - the IETF draft's Structured-Field String (RFC 8941 §3.3.3): `"8e03978e-…"`, with `\"` and `\\`
 *   escapes (draft-ietf-httpapi-idempotency-key-header §2.1);
 * - the bare token most clients send (Stripe, AWS): `8e03978e-…`.
 * Surrounding optional whitespace is ignored (RFC 9110 §5.5). Never throws.
 */
export function parseIdempotencyKeyHeader(value: string): ParsedKeyHeader {
  if (typeof value !== 'string') return { ok: false, problem: 'not-a-string' };
  const trimmed = value.replace(/^[ \t]+|[ \t]+$/g, '');
  if (trimmed.startsWith('"')) {
    const key = parseStructuredFieldString(trimmed);
    if (key === undefined) return { ok: false, problem: 'malformed-quoted-string' };
    const problem = checkIdempotencyKey(key);
    return problem === undefined ? { ok: true, key, form: 'quoted' } : { ok: false, problem };
  }
  const problem = checkIdempotencyKey(trimmed);
  return problem === undefined ? { ok: true, key: trimmed, form: 'bare' } : { ok: false, problem };
}

/** RFC 8941 §4.2.5: a whole value that is exactly one sf-string; `undefined` when it is not. */
function parseStructuredFieldString(input: string): string | undefined {
  let out = '';
  for (let i = 1; i < input.length; i++) {
    const char = input[i]!;
    const code = input.charCodeAt(i);
    if (char === '\\') {
      const next = input[++i];
      if (next !== '"' && next !== '\\') return undefined;
      out += next;
    } else if (char === '"') {
      return i === input.length - 1 ? out : undefined;
    } else if (code < 0x20 || code > 0x7e) {
      return undefined;
    } else {
      out += char;
    }
  }
  return undefined;
}

/**
 * The header value to send for `key`: bare, as most servers expect, unless the bare form would be
 * ambiguous — a comma (RFC 9110 §5.3 lets intermediaries fold repeated lines with commas, so servers
 * refuse bare keys holding one) or a leading quote — in which case the quoted sf-string form.
 *
 * @internal Shared with the sibling packages; not part of the public API.
 */
export function formatIdempotencyKeyHeader(key: string): string {
  return key.includes(',') || key.startsWith('"') ? formatQuotedIdempotencyKey(key) : key;
}

/** Serialises a key as an RFC 8941 sf-string, the draft's recommended wire form. */
export function formatQuotedIdempotencyKey(key: string): string {
  return `"${key.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
