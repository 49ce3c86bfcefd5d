import { describe, expect, it } from 'vitest';
import { classifyError, classifyResponse, isRetryableMethod, readShouldRetryHint } from './classify.js';
import { ProblemType } from './problem.js';

describe('isRetryableMethod', () => {
  it.each(['GET', 'head', 'OPTIONS', 'PUT', 'DELETE'])('retries %s without a key', (method) => {
    expect(isRetryableMethod(method, false)).toBe(true);
  });
  it.each(['POST', 'PATCH', 'post'])('retries %s only with a key', (method) => {
    expect(isRetryableMethod(method, false)).toBe(false);
    expect(isRetryableMethod(method, true)).toBe(true);
  });
});

describe('classifyResponse', () => {
  it.each([408, 429, 500, 502, 503, 504])('retries %i', (status) => {
    expect(classifyResponse({ status })).toEqual({ retry: true, reason: `status ${status}` });
  });

  it.each([200, 201, 301, 400, 401, 403, 404, 405, 409, 410, 413, 422, 501, 505])(
    'does not retry %i',
    (status) => {
      expect(classifyResponse({ status }).retry).toBe(false);
    },
  );

  it('retries a 409 only when it is the in-progress problem', () => {
    expect(classifyResponse({ status: 409, problemType: ProblemType.requestInProgress })).toEqual({
      retry: true,
      reason: 'request in progress',
    });
    expect(classifyResponse({ status: 409, problemType: 'https://example.com/conflict' }).retry).toBe(false);
  });

  it('never retries the "response not replayable" problem, though it is a 500', () => {
    expect(classifyResponse({ status: 500, problemType: ProblemType.responseNotReplayable })).toEqual({
      retry: false,
      reason: 'response not replayable',
    });
  });

  it('never retries a 422 key mismatch, and names it', () => {
    expect(classifyResponse({ status: 422, problemType: ProblemType.keyReused })).toEqual({
      retry: false,
      reason: 'idempotency key reused',
    });
    expect(classifyResponse({ status: 422, headers: { 'x-should-retry': 'true' } }).retry).toBe(false);
  });

  it("lets the server's do-not-retry hint win", () => {
    expect(classifyResponse({ status: 503, headers: new Headers({ 'x-should-retry': 'false' }) })).toEqual({
      retry: false,
      reason: 'server said do not retry',
    });
    expect(classifyResponse({ status: 500, headers: { 'Stripe-Should-Retry': 'false' } }).retry).toBe(false);
    expect(
      classifyResponse({
        status: 409,
        problemType: ProblemType.requestInProgress,
        headers: { 'x-should-retry': 'false' },
      }).retry,
    ).toBe(false);
  });

  it('retries a status the server explicitly marks as retryable', () => {
    expect(classifyResponse({ status: 409, headers: { 'x-should-retry': 'true' } })).toEqual({
      retry: true,
      reason: 'server said retry',
    });
  });

  it('reads the hint case-insensitively and ignores garbage', () => {
    expect(readShouldRetryHint({ 'X-Should-Retry': ' FALSE ' })).toBe(false);
    expect(readShouldRetryHint({ 'x-should-retry': 'maybe' })).toBeUndefined();
  });
});

describe('classifyError', () => {
  it.each(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT'])(
    'retries code %s',
    (code) => {
      expect(classifyError(Object.assign(new Error('x'), { code }))).toEqual({
        retry: true,
        reason: `network ${code}`,
      });
    },
  );

  it("finds the code on undici's cause chain (TypeError: fetch failed)", () => {
    const cause = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    expect(classifyError(new TypeError('fetch failed', { cause }))).toEqual({
      retry: true,
      reason: 'network UND_ERR_SOCKET',
    });
  });

  it('finds codes inside an AggregateError (happy eyeballs connect failures)', () => {
    const inner = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    expect(classifyError(new TypeError('fetch failed', { cause: new AggregateError([inner]) })).retry).toBe(
      true,
    );
  });

  it('does not retry unknown codes, DNS NXDOMAIN or certificate errors', () => {
    expect(classifyError(Object.assign(new Error('x'), { code: 'ENOTFOUND' }))).toEqual({
      retry: false,
      reason: 'error ENOTFOUND',
    });
    expect(classifyError(Object.assign(new Error('x'), { code: 'CERT_HAS_EXPIRED' })).retry).toBe(false);
  });

  it('never retries an abort; retries a timeout', () => {
    expect(classifyError(new DOMException('stop', 'AbortError'))).toEqual({
      retry: false,
      reason: 'aborted',
    });
    expect(classifyError(new DOMException('late', 'TimeoutError'))).toEqual({
      retry: true,
      reason: 'timeout',
    });
  });

  it('treats a code-less TypeError as a network error only when fetch itself rejected', () => {
    expect(classifyError(new TypeError('Failed to fetch'), { fromFetch: true }).retry).toBe(true);
    expect(classifyError(new TypeError('Failed to fetch')).retry).toBe(false);
    expect(classifyError(new Error('Failed to fetch'), { fromFetch: true }).retry).toBe(false);
  });

  it("retries workerd's fetch rejection for a lost connection (a plain Error marked retryable)", () => {
    const lost = Object.assign(new Error('Network connection lost.'), { retryable: true });
    expect(classifyError(lost, { fromFetch: true })).toEqual({ retry: true, reason: 'network error' });
    expect(classifyError(lost).retry).toBe(false);
    const notMarked = Object.assign(new Error('Network connection lost.'), { retryable: 'yes' });
    expect(classifyError(notMarked, { fromFetch: true }).retry).toBe(false);
  });

  it("retries Deno's lost connection: a fetch TypeError whose code-less cause is not an undici refusal", () => {
    const cause = new Error('client error (SendRequest): connection closed before message completed');
    const error = new TypeError('fetch failed', { cause });
    expect(classifyError(error, { fromFetch: true })).toEqual({ retry: true, reason: 'network error' });
  });

  it("does not retry undici's refusals: a fetch TypeError whose cause has no network code", () => {
    for (const message of [
      'unexpected redirect',
      'redirect count exceeded',
      'URL scheme must be a HTTP(S) scheme',
      '',
    ]) {
      const error = new TypeError('fetch failed', { cause: new Error(message) });
      expect(classifyError(error, { fromFetch: true })).toEqual({ retry: false, reason: 'error' });
    }
  });

  it('never throws on hostile values', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
      },
    );
    const cyclic: { cause?: unknown } = {};
    cyclic.cause = cyclic;
    for (const value of [null, undefined, 3, 'ECONNRESET', hostile, cyclic]) {
      expect(classifyError(value).retry).toBe(false);
    }
  });
});

describe('bad input', () => {
  it('isRetryableMethod names a non-string method', () => {
    expect(() => isRetryableMethod(undefined as never, false)).toThrow(
      'Invalid option `method`: expected an HTTP method name, got undefined.',
    );
  });
});
