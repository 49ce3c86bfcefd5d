/**
 * A short digest of an idempotency key for logs and telemetry: the first 16 hex digits of SHA-256 over
 * its UTF-8 bytes. Client and server compute the same one, so a client span and a server span or log
 * line can be matched without either recording the key itself (with `scope: 'global'` a key is all
 * it takes to be answered a stored response).
 *
 * Synchronous where node:crypto exists (Node, Bun, Deno); a promise through Web Crypto elsewhere, and
 * `undefined` where neither exists (a browser page on plain http has no `crypto.subtle`).
 */
export function hashIdempotencyKey(key: string): string | Promise<string | undefined> {
  if (createHash !== undefined) return createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16);
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (subtle === undefined) return Promise.resolve(undefined);
  return subtle.digest('SHA-256', new TextEncoder().encode(key)).then(
    (digest) => {
      let hex = '';
      for (const byte of new Uint8Array(digest, 0, 8)) hex += byte.toString(16).padStart(2, '0');
      return hex;
    },
    () => undefined,
  );
}

type CreateHash = (algorithm: string) => {
  update(data: string, encoding: 'utf8'): { digest(encoding: 'hex'): string };
};

/** Looked up at run time, so browser and edge bundles never import node:crypto. */
const createHash = ((): CreateHash | undefined => {
  try {
    const getBuiltinModule = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
      .process?.getBuiltinModule;
    const crypto = getBuiltinModule?.('node:crypto') as { createHash?: CreateHash } | undefined;
    return typeof crypto?.createHash === 'function' ? crypto.createHash : undefined;
  } catch {
    return undefined;
  }
})();
