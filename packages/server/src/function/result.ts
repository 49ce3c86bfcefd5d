const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A function's result as it is kept: its JSON bytes (none for `undefined`), and the value they hold. */
export type EncodedResult = { ok: true; bytes: Uint8Array; value: unknown } | { ok: false; error: unknown };

/**
 * Encodes a result as JSON. The value handed back is the JSON's own, so the first call returns exactly
 * what every replay will (a Date becomes its ISO string on both).
 */
export function encodeResult(result: unknown): EncodedResult {
  if (result === undefined) return { ok: true, bytes: new Uint8Array(0), value: undefined };
  let json: string | undefined;
  try {
    json = JSON.stringify(result);
  } catch (error) {
    return { ok: false, error };
  }
  if (json === undefined) {
    return { ok: false, error: new TypeError(`JSON cannot hold a ${typeof result}.`) };
  }
  return { ok: true, bytes: encoder.encode(json), value: JSON.parse(json) };
}

/** The result kept in a record (empty bytes: `undefined`). */
export function decodeResult(bytes: Uint8Array): unknown {
  return bytes.byteLength === 0 ? undefined : JSON.parse(decoder.decode(bytes));
}
