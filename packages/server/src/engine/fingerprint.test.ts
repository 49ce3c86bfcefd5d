import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalQuery, computeStoreKey, defaultFingerprint, sha256Hex } from './fingerprint.js';
import { selectReplayHeaders } from './replay-headers.js';
import { normalizeReplayHeaders } from './replay-headers.js';

const input = (overrides: Partial<Parameters<typeof defaultFingerprint>[0]> = {}) => ({
  method: 'POST',
  path: '/pay',
  query: '',
  headers: {},
  body: new TextEncoder().encode('{"a":1}'),
  ...overrides,
});

describe('fingerprint and store key', () => {
  it('hashes with SHA-256 over length-prefixed parts', async () => {
    expect(await sha256Hex([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const prefixed = new Uint8Array(9);
    prefixed[7] = 1;
    prefixed[8] = 0x61;
    const webCrypto = Buffer.from(await crypto.subtle.digest('SHA-256', prefixed)).toString('hex');
    expect(await sha256Hex([new Uint8Array([0x61])])).toBe(webCrypto);
  });

  it('sorts the query canonically', () => {
    expect(canonicalQuery('b=2&a=1&a=0')).toBe('a=0&a=1&b=2');
    expect(canonicalQuery('')).toBe('');
  });

  it('differs by method, path, query and body, and is stable', async () => {
    const base = await defaultFingerprint(input());
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(await defaultFingerprint(input())).toBe(base);
    for (const other of [
      input({ method: 'PATCH' }),
      input({ path: '/pay2' }),
      input({ query: 'a=1' }),
      input({ body: new Uint8Array([1]) }),
    ]) {
      expect(await defaultFingerprint(other)).not.toBe(base);
    }
  });

  it('never lets scope and key run into each other', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.string(), fc.string(), fc.string(), async (s1, k1, s2, k2) => {
        fc.pre(s1 !== s2 || k1 !== k2);
        expect(await computeStoreKey(s1, k1)).not.toBe(await computeStoreKey(s2, k2));
      }),
      { numRuns: 200 },
    );
    expect(await computeStoreKey('a:b', 'c')).not.toBe(await computeStoreKey('a', 'b:c'));
  });

  it('keeps only allowed headers, never Set-Cookie or hop-by-hop ones', () => {
    const allowed = normalizeReplayHeaders(['x-trace']);
    expect(
      selectReplayHeaders(
        [
          ['Content-Type', 'text/plain'],
          ['Set-Cookie', ['a=1', 'b=2']],
          ['Transfer-Encoding', 'chunked'],
          ['Content-Length', 12],
          ['Link', ['</a>', '</b>']],
          ['X-Trace', 'abc'],
          ['X-Other', 'no'],
        ],
        allowed,
      ),
    ).toEqual([
      ['content-type', 'text/plain'],
      ['link', '</a>'],
      ['link', '</b>'],
      ['x-trace', 'abc'],
    ]);
  });
});
