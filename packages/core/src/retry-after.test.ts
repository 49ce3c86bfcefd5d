import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHttpDate } from './http-date.js';
import { parseRetryAfter } from './retry-after.js';

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);

describe('parseHttpDate', () => {
  const expected = Date.UTC(1994, 10, 6, 8, 49, 37);

  it('reads all three HTTP-date formats of RFC 9110 §5.6.7 as UTC', () => {
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(expected);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(expected);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(expected);
  });

  it('reads a two-digit RFC 850 year as the most recent past century when 50+ years ahead', () => {
    expect(parseHttpDate('Monday, 01-Jan-30 00:00:00 GMT', NOW)).toBe(Date.UTC(2030, 0, 1));
    expect(parseHttpDate('Friday, 01-Jan-99 00:00:00 GMT', NOW)).toBe(Date.UTC(1999, 0, 1));
  });

  it.each([
    '',
    'yesterday',
    '2026-11-28T12:00:00Z',
    'Sun, 06 Nov 1994 08:49:37 UTC',
    'Sun, 31 Feb 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 25:49:37 GMT',
    'Sun, 6 Nov 1994 08:49:37 GMT',
  ])('refuses %j', (value) => {
    expect(parseHttpDate(value, NOW)).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  it('reads retry-after-ms first, rounding fractions up', () => {
    expect(parseRetryAfter({ 'retry-after-ms': '1500.2', 'retry-after': '9' })).toEqual({
      delay: 1501,
      source: 'retry-after-ms',
      capped: false,
    });
  });

  it('reads Retry-After delta-seconds from a Headers object or a plain record', () => {
    expect(parseRetryAfter(new Headers({ 'Retry-After': '3' }))).toEqual({
      delay: 3000,
      source: 'retry-after',
      capped: false,
    });
    expect(parseRetryAfter({ 'Retry-After': '0' })?.delay).toBe(0);
  });

  it('measures an HTTP-date against the response Date header, so client clock skew does not matter', () => {
    // The server's clock says 10:00:00 and asks to come back at 10:00:05; the client's clock is an hour off.
    const headers = new Headers({
      date: 'Sat, 28 Nov 2026 10:00:00 GMT',
      'retry-after': 'Sat, 28 Nov 2026 10:00:05 GMT',
    });
    expect(parseRetryAfter(headers, { now: NOW })?.delay).toBe(5000);
  });

  it('falls back to the local clock when the response has no Date', () => {
    expect(parseRetryAfter({ 'retry-after': 'Sat, 28 Nov 2026 12:00:07 GMT' }, { now: NOW })?.delay).toBe(
      7000,
    );
    expect(parseRetryAfter({ 'retry-after': 'Sat, 28 Nov 2026 11:00:00 GMT' }, { now: NOW })?.delay).toBe(0);
  });

  it('reads RateLimit-Reset and the RateLimit field', () => {
    expect(parseRetryAfter({ 'ratelimit-reset': '4' })).toEqual({
      delay: 4000,
      source: 'ratelimit-reset',
      capped: false,
    });
    expect(parseRetryAfter({ ratelimit: '"default";r=0;t=6' })?.delay).toBe(6000);
    expect(parseRetryAfter({ ratelimit: 'limit=100, remaining=0, reset=2' })?.delay).toBe(2000);
  });

  it('caps at max and says so', () => {
    expect(parseRetryAfter({ 'retry-after': '31536000' }, { max: 60_000 })).toEqual({
      delay: 60_000,
      source: 'retry-after',
      capped: true,
    });
  });

  it.each([
    [{}],
    [{ 'retry-after': '-5' }],
    [{ 'retry-after': '1.5' }],
    [{ 'retry-after': 'soon' }],
    [{ 'retry-after-ms': 'NaN' }],
    [{ 'retry-after-ms': '-1' }],
    [{ 'ratelimit-reset': 'x' }],
  ])('gives no hint for %o', (headers) => {
    expect(parseRetryAfter(headers)).toBeUndefined();
  });

  it('gives no hint for unreadable inputs', () => {
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
    const hostile = {
      get() {
        throw new Error('boom');
      },
    };
    expect(parseRetryAfter(hostile)).toBeUndefined();
  });

  it('never throws and stays within [0, max] for any header values (property)', () => {
    const value = fc.oneof(
      fc.string(),
      fc.nat().map(String),
      fc.integer().map(String),
      fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
    );
    fc.assert(
      fc.property(
        fc.record(
          {
            'retry-after': value,
            'retry-after-ms': value,
            date: value,
            'ratelimit-reset': value,
            ratelimit: value,
          },
          { requiredKeys: [] },
        ),
        fc.nat({ max: 10_000_000 }),
        (headers, max) => {
          const hint = parseRetryAfter(headers, { max, now: NOW });
          return hint === undefined || (hint.delay >= 0 && hint.delay <= max);
        },
      ),
    );
  });
});
