import { describe, expect, it } from 'vitest';
import { deriveKey } from './derive-key.js';

describe('deriveKey', () => {
  it('is deterministic and a version-8 RFC 9562 UUID', () => {
    const a = deriveKey('8e03978e-40d5-43e8-bc93-6894a57f9324', 'charge');
    expect(a).toBe(deriveKey('8e03978e-40d5-43e8-bc93-6894a57f9324', 'charge'));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('pins the algorithm (changing it would break keys already sent downstream)', () => {
    expect(deriveKey('key-1', 'charge')).toMatchInlineSnapshot(`"7ca9a94f-31ea-8157-946a-f61499e56b75"`);
  });

  it('gives different steps and ambiguous splits different keys', () => {
    expect(deriveKey('k', 'charge')).not.toBe(deriveKey('k', 'email'));
    expect(deriveKey('a:b', 'c')).not.toBe(deriveKey('a', 'b:c'));
  });

  it('rejects empty inputs', () => {
    expect(() => deriveKey('', 'x')).toThrow(TypeError);
    expect(() => deriveKey('k', '')).toThrow(TypeError);
  });
});
