import { describe, expect, it } from 'vitest';
import { classifyResponse } from './classify.js';
import { isOncelyError, OncelyError } from './errors.js';
import { readHeader } from './headers.js';
import { ProblemType, createProblem, isOncelyProblemType, readProblemType } from './problem.js';

describe('problem types', () => {
  it('builds an RFC 9457 document with the shared title and status', () => {
    expect(
      createProblem(ProblemType.requestInProgress, { idempotencyKey: 'k1', detail: 'retry later' }),
    ).toEqual({
      type: 'https://oncely.dev/problems/request-in-progress',
      title: 'A request with this Idempotency-Key is in progress',
      status: 409,
      idempotencyKey: 'k1',
      detail: 'retry later',
    });
  });

  it('has a 413 "request too large" problem that is never retried', () => {
    expect(createProblem(ProblemType.requestTooLarge, { idempotencyKey: 'k1' })).toEqual({
      type: 'https://oncely.dev/problems/request-too-large',
      title: 'Request body is too large',
      status: 413,
      idempotencyKey: 'k1',
    });
    expect(isOncelyProblemType('https://oncely.dev/problems/request-too-large')).toBe(true);
    // The same body can only get the same answer: no retry, with or without the server's hint.
    expect(classifyResponse({ status: 413, problemType: ProblemType.requestTooLarge })).toEqual({
      retry: false,
      reason: 'status 413',
    });
    expect(
      classifyResponse({
        status: 413,
        problemType: ProblemType.requestTooLarge,
        headers: { 'x-should-retry': 'false' },
      }).retry,
    ).toBe(false);
  });

  it('refuses an unknown type, naming it', () => {
    expect(() => createProblem('https://example.com/nope' as never)).toThrow(
      /^Invalid option `type`: expected one of Oncely's problem type URIs \(https:\/\/oncely.dev\/problems\/key-missing, .*\), got "https:\/\/example.com\/nope"\.$/,
    );
  });

  it('has one distinct, stable URI per problem', () => {
    const uris = Object.values(ProblemType);
    expect(new Set(uris).size).toBe(uris.length);
    expect(uris.every((uri) => uri.startsWith('https://oncely.dev/problems/'))).toBe(true);
    expect(isOncelyProblemType(ProblemType.keyReused)).toBe(true);
    expect(isOncelyProblemType('about:blank')).toBe(false);
  });

  it('reads the type from parsed or raw bodies and ignores the rest', () => {
    expect(readProblemType({ type: ProblemType.keyReused })).toBe(ProblemType.keyReused);
    expect(readProblemType(JSON.stringify({ type: 'x' }))).toBe('x');
    expect(readProblemType('<html>')).toBeUndefined();
    expect(readProblemType(null)).toBeUndefined();
    expect(readProblemType({ type: 3 })).toBeUndefined();
  });
});

describe('OncelyError', () => {
  it('keeps code and cause, and is recognised by marker across copies', () => {
    const cause = new Error('root');
    const error = new OncelyError('ERR_X', 'failed', { cause });
    expect([error.code, error.cause, error.name]).toEqual(['ERR_X', cause, 'OncelyError']);
    expect(isOncelyError(error)).toBe(true);
    const lookalike = Object.assign(new Error('x'), { code: 'ERR_X' });
    expect(isOncelyError(lookalike)).toBe(false);
    const foreign = new Error('from another bundle');
    Object.defineProperty(foreign, Symbol.for('oncely.error'), { value: true });
    expect(isOncelyError(foreign)).toBe(true);
  });
});

describe('readHeader', () => {
  it('reads Headers, records (any case) and arrays', () => {
    expect(readHeader(new Headers({ 'Idempotency-Key': 'a' }), 'idempotency-key')).toBe('a');
    expect(readHeader({ 'IDEMPOTENCY-KEY': 'b' }, 'Idempotency-Key')).toBe('b');
    expect(readHeader({ 'x-a': ['1', '2'] }, 'x-a')).toBe('1, 2');
    expect(readHeader({ 'x-a': 5 }, 'x-a')).toBe('5');
    expect(readHeader({}, 'x-a')).toBeUndefined();
  });
});
