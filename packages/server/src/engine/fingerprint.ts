import type { HeaderSource } from '@oncely/core';

/** What a fingerprint is computed from. */
export interface FingerprintInput {
  /** Upper-case method. */
  method: string;
  path: string;
  /** Query in canonical form: parameters sorted by name, then value (see {@link canonicalQuery}). */
  query: string;
  headers: HeaderSource;
  /** The request body bytes. */
  body: Uint8Array;
}

/** A function that maps a request to its fingerprint: equal for "the same request", else different. */
export type Fingerprint = (input: FingerprintInput) => string | Promise<string>;

const encoder = new TextEncoder();

/**
 * Query parameters sorted by name, then value, and re-encoded, so `?b=2&a=1` and `?a=1&b=2` are the
 * same request.
 */
export function canonicalQuery(query: string): string {
  if (query === '') return '';
  const params = [...new URLSearchParams(query)];
  params.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return new URLSearchParams(params).toString();
}

/**
 * The default fingerprint: SHA-256 (hex) of method, path, canonical query and body bytes, each
 * length-prefixed so no two different requests can share an encoding.
 */
export async function defaultFingerprint(input: FingerprintInput): Promise<string> {
  return sha256Hex([
    encoder.encode(input.method),
    encoder.encode(input.path),
    encoder.encode(input.query),
    input.body,
  ]);
}

/**
 * The store key of `(scope, key)`: SHA-256 (hex) of both, length-prefixed, so no raw user input
 * reaches the store and `("a:b", "c")` never collides with `("a", "b:c")`.
 */
export async function computeStoreKey(scope: string, idempotencyKey: string): Promise<string> {
  return sha256Hex([encoder.encode(scope), encoder.encode(idempotencyKey)]);
}

type CreateHash = (algorithm: string) => {
  update(data: Uint8Array): { digest(encoding: 'hex'): string };
};

/**
 * node:crypto's synchronous hash when the runtime has it (Node, Bun, Deno): several times cheaper than
 * a Web Crypto round trip for small inputs. Looked up at run time, so edge bundles never import it.
 */
const createHash: CreateHash | undefined = (() => {
  try {
    const getBuiltinModule = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
      .process?.getBuiltinModule;
    const crypto = getBuiltinModule?.('node:crypto') as { createHash?: CreateHash } | undefined;
    return crypto?.createHash;
  } catch {
    return undefined;
  }
})();

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
