import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_IDEMPOTENCY_KEY_LENGTH,
  assertIdempotencyKey,
  checkIdempotencyKey,
  formatIdempotencyKeyHeader,
  formatQuotedIdempotencyKey,
  generateIdempotencyKey,
  parseIdempotencyKeyHeader,
} from './key.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('generateIdempotencyKey', () => {
  it('makes distinct UUID v4 keys by default', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => generateIdempotencyKey()));
    expect(keys.size).toBe(1000);
    for (const key of keys) expect(key).toMatch(UUID_V4);
  });

  it('makes time-ordered UUID v7 keys on request', () => {
    const a = generateIdempotencyKey('v7');
    const b = generateIdempotencyKey('v7');
    expect(a).toMatch(UUID_V7);
    expect(a < b).toBe(true);
  });

  it("uses the caller's generator and validates what it returns", () => {
    expect(generateIdempotencyKey(() => 'order-42')).toBe('order-42');
    expect(() => generateIdempotencyKey(() => '')).toThrow(
      'Invalid idempotency key from `keyGenerator()`: it is empty (got "").',
    );
    expect(() => generateIdempotencyKey('v5' as never)).toThrow(
      "Invalid option `keyGenerator`: expected 'v4', 'v7' or a function returning a key, got \"v5\".",
    );
  });
});

describe('checkIdempotencyKey', () => {
  it('accepts printable ASCII of 1 to 255 characters', () => {
    expect(checkIdempotencyKey('a')).toBeUndefined();
    expect(checkIdempotencyKey('x'.repeat(MAX_IDEMPOTENCY_KEY_LENGTH))).toBeUndefined();
    expect(checkIdempotencyKey('a b~!"#')).toBeUndefined();
  });

  it.each([
    ['', 'empty'],
    ['x'.repeat(256), 'too-long'],
    ['é', 'not-printable-ascii'],
    ['a\nb', 'not-printable-ascii'],
    ['a\u0000', 'not-printable-ascii'],
    [' lead', 'not-printable-ascii'],
    ['trail ', 'not-printable-ascii'],
    [42, 'not-a-string'],
  ])('refuses %j as %s', (key, problem) => {
    expect(checkIdempotencyKey(key)).toBe(problem);
  });

  it('assertIdempotencyKey names the source', () => {
    expect(() => assertIdempotencyKey('x'.repeat(300), 'headers')).toThrow(
      /^Invalid idempotency key from `headers`: it is longer than 255 characters/,
    );
  });
});

describe('parseIdempotencyKeyHeader', () => {
  it('accepts the bare form', () => {
    expect(parseIdempotencyKeyHeader('8e03978e-40d5-43e8-bc93-6894a57f9324')).toEqual({
      ok: true,
      key: '8e03978e-40d5-43e8-bc93-6894a57f9324',
      form: 'bare',
    });
  });

  it('accepts the quoted Structured-Field String form, with escapes', () => {
    expect(parseIdempotencyKeyHeader('"8e03978e-40d5"')).toEqual({
      ok: true,
      key: '8e03978e-40d5',
      form: 'quoted',
    });
    expect(parseIdempotencyKeyHeader(' "a\\"b\\\\c" ')).toEqual({ ok: true, key: 'a"b\\c', form: 'quoted' });
  });

  it.each(['"unterminated', '"a"b', '"bad\\escape"', '""', '"é"', `"${'x'.repeat(256)}"`])(
    'refuses the malformed quoted value %j',
    (value) => {
      expect(parseIdempotencyKeyHeader(value).ok).toBe(false);
    },
  );

  it('answers not-a-string for a value that is not a string, instead of throwing', () => {
    expect(parseIdempotencyKeyHeader(undefined as never)).toEqual({ ok: false, problem: 'not-a-string' });
  });

  it('refuses empty, too long and non-ASCII bare values', () => {
    expect(parseIdempotencyKeyHeader('')).toEqual({ ok: false, problem: 'empty' });
    expect(parseIdempotencyKeyHeader('   ')).toEqual({ ok: false, problem: 'empty' });
    expect(parseIdempotencyKeyHeader('x'.repeat(256))).toEqual({ ok: false, problem: 'too-long' });
    expect(parseIdempotencyKeyHeader('ключ')).toEqual({ ok: false, problem: 'not-printable-ascii' });
  });

  it('never throws, and every accepted key is valid (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (value) => {
        const parsed = parseIdempotencyKeyHeader(value);
        return !parsed.ok || checkIdempotencyKey(parsed.key) === undefined;
      }),
    );
  });

  it('round-trips any valid key through the quoted form (property)', () => {
    const printable = fc.string({
      unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
      minLength: 1,
      maxLength: 255,
    });
    fc.assert(
      fc.property(printable, (key) => {
        const parsed = parseIdempotencyKeyHeader(formatQuotedIdempotencyKey(key));
        return parsed.ok && parsed.key === key && parsed.form === 'quoted';
      }),
    );
  });
});

describe('formatIdempotencyKeyHeader', () => {
  it('sends the bare form unless it would be ambiguous', () => {
    expect(formatIdempotencyKeyHeader('8e03978e-40d5')).toBe('8e03978e-40d5');
    expect(formatIdempotencyKeyHeader('order,42')).toBe('"order,42"');
    expect(formatIdempotencyKeyHeader('"x')).toBe('"\\"x"');
  });

  it('always parses back to the same key (property)', () => {
    const printable = fc.string({
      unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
      minLength: 1,
      maxLength: 200,
    });
    fc.assert(
      fc.property(printable, (key) => {
        const parsed = parseIdempotencyKeyHeader(formatIdempotencyKeyHeader(key));
        return parsed.ok && parsed.key === key && (parsed.form === 'quoted' || !key.includes(','));
      }),
    );
  });
});
