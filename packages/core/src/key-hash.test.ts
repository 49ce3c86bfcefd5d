import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashIdempotencyKey } from './key-hash.js';

describe('hashIdempotencyKey', () => {
  it('is the first 16 hex digits of SHA-256 over the UTF-8 key, synchronously in Node', () => {
    const key = '8e03978e-40d5-43e8-bc93-6894a57f9324';
    expect(hashIdempotencyKey(key)).toBe(createHash('sha256').update(key).digest('hex').slice(0, 16));
    expect(hashIdempotencyKey('clé-ü')).toBe(
      createHash('sha256').update(Buffer.from('clé-ü', 'utf8')).digest('hex').slice(0, 16),
    );
  });
});
