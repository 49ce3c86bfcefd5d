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
  return sha256Hex(fingerprintParts(input));
}

function fingerprintParts(input: FingerprintInput): Part[] {
  return [input.method, input.path, input.query, input.body];
}

/** One hashed part: a string stands for its UTF-8 bytes. */
type Part = string | Uint8Array;

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
  const [scopeHash, keyHash] = await Promise.all([sha256Hex([scope]), sha256Hex([scope, idempotencyKey])]);
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
  return sha256HexSync(fingerprintParts(input));
}

/** {@link computeStoreKey} without a promise; `undefined` where node:crypto is missing. */
export function storeKeySync(scope: string, idempotencyKey: string): string | undefined {
  const keyHash = sha256HexSync([scope, idempotencyKey]);
  if (keyHash === undefined) return undefined;
  return `${sha256HexSync([scope])!.slice(0, SCOPE_HASH_LENGTH)}:${keyHash}`;
}

interface Hash {
  update(data: Part): Hash;
  digest(encoding: 'hex'): string;
}
type CreateHash = (algorithm: string) => Hash;
type ByteLength = (text: string) => number;

/**
 * node:crypto's synchronous hash when the runtime has it (Node, Bun, Deno): it spares the engine a
 * promise per hash. Looked up at run time, so edge bundles never import it.
 */
const node = ((): { createHash: CreateHash; byteLength: ByteLength } | undefined => {
  try {
    const getBuiltinModule = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
      .process?.getBuiltinModule;
    const crypto = getBuiltinModule?.('node:crypto') as { createHash?: CreateHash } | undefined;
    const buffer = getBuiltinModule?.('node:buffer') as { Buffer?: { byteLength?: ByteLength } } | undefined;
    const byteLength = buffer?.Buffer?.byteLength;
    if (typeof crypto?.createHash !== 'function' || typeof byteLength !== 'function') return undefined;
    return { createHash: crypto.createHash, byteLength: (text) => byteLength(text) };
  } catch {
    return undefined;
  }
})();

/** The parts, each prefixed with its length as 8 bytes big-endian, in one buffer: the bytes hashed. */
function lengthPrefixed(parts: readonly Part[]): Uint8Array<ArrayBuffer> {
  const bytes = parts.map((part) => (typeof part === 'string' ? encoder.encode(part) : part));
  let size = 0;
  for (const part of bytes) size += 8 + part.byteLength;
  const buffer = new Uint8Array(size);
  let offset = 0;
  for (const part of bytes) {
    writeLength(new DataView(buffer.buffer, offset, 8), part.byteLength);
    buffer.set(part, offset + 8);
    offset += 8 + part.byteLength;
  }
  return buffer;
}

/** `length` as 8 bytes big-endian at the start of `view`. */
function writeLength(view: DataView, length: number): void {
  view.setUint32(0, Math.floor(length / 2 ** 32));
  view.setUint32(4, length >>> 0);
}

/** Scratch space for one length prefix: node:crypto's `update()` copies what it is given. */
const prefix = new Uint8Array(8);
const prefixView = new DataView(prefix.buffer);

/**
 * SHA-256 (hex) over length-prefixed parts with node:crypto; `undefined` where it is missing. The
 * same bytes as {@link lengthPrefixed}, fed part by part with strings encoded by node:crypto itself:
 * no TextEncoder arrays and no joined buffer, i.e. no new ArrayBuffer per hash. Engine-only first
 * request (claim, record, complete through MemoryStore): about 40 → 20 µs CPU, interleaved A/B; that
 * is ~15 % of the "Fastify, oncely MemoryStore, first" row of `pnpm bench`.
 */
function sha256HexSync(parts: readonly Part[]): string | undefined {
  if (node === undefined) return undefined;
  const hash = node.createHash('sha256');
  for (const part of parts) {
    writeLength(prefixView, typeof part === 'string' ? node.byteLength(part) : part.byteLength);
    hash.update(prefix).update(part);
  }
  return hash.digest('hex');
}

/** SHA-256 (hex) over length-prefixed parts; Web Crypto where node:crypto is missing (workers, browsers). */
export async function sha256Hex(parts: readonly Part[]): Promise<string> {
  const sync = sha256HexSync(parts);
  if (sync !== undefined) return sync;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', lengthPrefixed(parts)));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
