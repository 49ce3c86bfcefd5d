import type { HeaderSource } from '@oncely/core';

/** What a fingerprint is computed from. */
export interface FingerprintInput {
  /** Upper-case method. */
  method: string;
  path: string;
  /** Query in canonical form: parameters sorted by name, repeated ones in their order. */
  query: string;
  headers: HeaderSource;
  /** The request body bytes. */
  body: Uint8Array;
}

/** A function that maps a request to its fingerprint: equal for "the same request", else different. */
export type Fingerprint = (input: FingerprintInput) => string | Promise<string>;

const encoder = new TextEncoder();

/**
 * Query parameters sorted by name and re-encoded, so `?b=2&a=1` and `?a=1&b=2` are the same request.
 * The sort is stable and by name only: repeated parameters keep their order, which is meaningful
 * (`?step=debit&step=credit` is not `?step=credit&step=debit`).
 */
export function canonicalQuery(query: string): string {
  if (query === '') return '';
  const params = [...new URLSearchParams(query)];
  params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new URLSearchParams(params).toString();
}

/**
 * The default fingerprint: SHA-256 (hex) of method, path, canonical query and body bytes, each
 * length-prefixed so no two different requests can share an encoding.
 */
export async function defaultFingerprint(input: FingerprintInput): Promise<string> {
  return (
    defaultFingerprintSync(input) ??
    sha256Hex([
      encoder.encode(input.method),
      encoder.encode(input.path),
      encoder.encode(input.query),
      input.body,
    ])
  );
}

/** Hex digits of the scope hash that starts a store key: enough to tell scopes apart, not to name one. */
const SCOPE_HASH_LENGTH = 16;

/**
 * The store key of `(scope, key)`: `<scope hash>:<key hash>`, where the key hash is SHA-256 (hex) of
 * both, length-prefixed (so `("a:b", "c")` never collides with `("a", "b:c")`), and the scope hash is
 * the first 16 hex digits of SHA-256 of the scope alone. No raw user input reaches the store; the scope
 * hash lets a store share its room fairly between scopes (see `MemoryStore`) and lets an operator find
 * one scope's records. Only hex digits and one `:`, so a Redis Cluster hash tag can wrap it.
 */
export async function computeStoreKey(scope: string, idempotencyKey: string): Promise<string> {
  const sync = storeKeySync(scope, idempotencyKey);
  if (sync !== undefined) return sync;
  const [scopeHash, keyHash] = await Promise.all([
    sha256Hex([encoder.encode(scope)]),
    sha256Hex([encoder.encode(scope), encoder.encode(idempotencyKey)]),
  ]);
  return `${scopeHash.slice(0, SCOPE_HASH_LENGTH)}:${keyHash}`;
}

/**
 * The scope part of a store key made by {@link computeStoreKey}; `''` for a key of another shape (a
 * store used directly, with its own keys), so all such keys count as one scope.
 */
export function storeKeyScope(storeKey: string): string {
  return storeKey.charCodeAt(SCOPE_HASH_LENGTH) === 0x3a ? storeKey.slice(0, SCOPE_HASH_LENGTH) : '';
}

/** {@link defaultFingerprint} without a promise; `undefined` where node:crypto is missing. */
export function defaultFingerprintSync(input: FingerprintInput): string | undefined {
  return hashStrings([input.method, input.path, input.query], input.body);
}

/** {@link computeStoreKey} without a promise; `undefined` where node:crypto is missing. */
export function storeKeySync(scope: string, idempotencyKey: string): string | undefined {
  const keyHash = hashStrings([scope, idempotencyKey], undefined);
  if (keyHash === undefined) return undefined;
  return `${hashStrings([scope], undefined)!.slice(0, SCOPE_HASH_LENGTH)}:${keyHash}`;
}

interface Hash {
  update(data: Uint8Array): Hash;
  digest(encoding: 'hex'): string;
}
type CreateHash = (algorithm: string) => Hash;
/** node:crypto's one-shot `hash()` (Node 20.12+): about half the cost of `createHash` for small inputs. */
type OneShotHash = (algorithm: string, data: Uint8Array, encoding: 'hex') => string;

/**
 * node:crypto's synchronous hashes when the runtime has them (Node, Bun, Deno): several times cheaper
 * than a Web Crypto round trip for small inputs. Looked up at run time, so edge bundles never import it.
 */
const { createHash, oneShot } = ((): {
  createHash?: CreateHash | undefined;
  oneShot?: OneShotHash | undefined;
} => {
  try {
    const getBuiltinModule = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
      .process?.getBuiltinModule;
    const crypto = getBuiltinModule?.('node:crypto') as
      { createHash?: CreateHash; hash?: OneShotHash } | undefined;
    if (typeof crypto?.createHash !== 'function') return {};
    return {
      createHash: crypto.createHash,
      oneShot: typeof crypto.hash === 'function' ? crypto.hash : undefined,
    };
  } catch {
    return {};
  }
})();

/** Bodies up to this size are copied next to the prefixes and hashed in one call. */
const ONE_SHOT_BODY_BYTES = 16 * 1024;

/** SHA-256 over length-prefixed parts; Web Crypto where node:crypto is missing (workers, browsers). */
export async function sha256Hex(parts: readonly Uint8Array[]): Promise<string> {
  let size = 0;
  for (const part of parts) size += 8 + part.byteLength;
  const buffer = new Uint8Array(size);
  const view = new DataView(buffer.buffer);
  let offset = 0;
  for (const part of parts) {
    view.setBigUint64(offset, BigInt(part.byteLength));
    buffer.set(part, offset + 8);
    offset += 8 + part.byteLength;
  }
  if (createHash !== undefined) return createHash('sha256').update(buffer).digest('hex');
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', buffer));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/**
 * The same bytes as {@link sha256Hex} over the UTF-8 of `strings` then `body`, without a TextEncoder
 * round trip: the length-prefixed strings are written into one pooled buffer, the body is hashed in
 * place. `undefined` where node:crypto (and so Buffer) is missing.
 */
function hashStrings(strings: readonly string[], body: Uint8Array | undefined): string | undefined {
  if (createHash === undefined) return undefined;
  const inline = body !== undefined && oneShot !== undefined && body.byteLength <= ONE_SHOT_BODY_BYTES;
  let size = body === undefined ? 0 : 8 + (inline ? body.byteLength : 0);
  for (const part of strings) size += 8 + Buffer.byteLength(part);
  const buffer = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const part of strings) {
    const length = Buffer.byteLength(part);
    offset = writeLength(buffer, offset, length);
    offset += buffer.write(part, offset, length, 'utf8');
  }
  if (body !== undefined) offset = writeLength(buffer, offset, body.byteLength);
  if (inline) buffer.set(body, offset);
  if (body === undefined || inline) {
    return oneShot !== undefined
      ? oneShot('sha256', buffer, 'hex')
      : createHash('sha256').update(buffer).digest('hex');
  }
  return createHash('sha256').update(buffer).update(body).digest('hex');
}

/** Writes `length` as 8 bytes, big-endian (the prefix of {@link sha256Hex}); returns the next offset. */
function writeLength(buffer: Buffer, offset: number, length: number): number {
  buffer.writeUInt32BE(Math.floor(length / 0x1_0000_0000), offset);
  buffer.writeUInt32BE(length >>> 0, offset + 4);
  return offset + 8;
}
