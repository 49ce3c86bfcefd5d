/**
 * JSON with the keys of every object sorted, so `{ a: 1, b: 2 }` and `{ b: 2, a: 1 }` are the same
 * text: the stable form of a call's arguments for its fingerprint (as Powertools sorts its payloads).
 * Values become what `JSON.stringify` makes of them (`toJSON` honoured: a Date is its ISO string;
 * `undefined` and functions are left out of objects, `null` in arrays).
 *
 * @throws {TypeError} for what JSON cannot hold: a BigInt, a cycle.
 */
export function canonicalJson(value: unknown): string {
  // `undefined` alone (a call without arguments is `[]`, never this) still needs a text.
  return JSON.stringify(value, sortKeys) ?? 'undefined';
}

function sortKeys(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const sorted: Record<string, unknown> = {};
  for (const name of Object.keys(value).sort()) {
    // defineProperty: a key named `__proto__` stays an own property, as in the original.
    Object.defineProperty(sorted, name, {
      value: (value as Record<string, unknown>)[name],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return sorted;
}
