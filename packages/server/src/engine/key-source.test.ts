import { ProblemType } from '@oncely/core';
import { describe, expect, it } from 'vitest';
import { createIdempotencyEngine } from './engine.js';
import { normalizeIdempotencyOptions } from './options.js';
import type { EngineRequest } from './types.js';

const request = (headers: Record<string, string | string[]>, keyHeader?: string): EngineRequest => ({
  method: 'POST',
  path: '/pay',
  query: '',
  keyHeader,
  headers,
  readBody: async () => new TextEncoder().encode('{"id":"evt_1"}'),
});

describe('the key and shouldStore options', () => {
  it.each([
    [{ key: 'PayPal-Request-Id' }, /`key`: expected .*"PayPal-Request-Id"/],
    [{ key: { header: '' } }, /`key.header`.*""/],
    [{ key: { header: 'Bad Name' } }, /`key.header`.*"Bad Name"/],
    [{ key: { name: 'x' } }, /`key.header`.*undefined/],
    [{ shouldStore: 'store' }, /`shouldStore`.*"store"/],
  ])('refuses %j at construction, naming the option and the value', (options, message) => {
    expect(() => normalizeIdempotencyOptions({ scope: 'global', ...(options as object) })).toThrow(message);
  });

  it('reads a custom header case-insensitively from the request headers, not from keyHeader', () => {
    const engine = createIdempotencyEngine({ scope: 'global', key: { header: 'PayPal-Request-Id' } });
    expect(engine.inspect(request({ 'paypal-request-id': 'k1' }, 'other'))).toMatchObject({
      action: 'read',
      idempotencyKey: 'k1',
    });
    expect(engine.inspect(request({}, 'other'))).toEqual({ action: 'pass' });
    const repeated = engine.inspect(request({ 'paypal-request-id': ['a', 'b'] }));
    expect(
      repeated.action === 'respond' && JSON.parse(new TextDecoder().decode(repeated.response.body)),
    ).toMatchObject({
      type: ProblemType.keyInvalid,
      detail: expect.stringContaining('PayPal-Request-Id header'),
    });
  });

  it('defers a function key source to the claim, where it sees the request and the body bytes', async () => {
    const seen: unknown[] = [];
    const engine = createIdempotencyEngine<{ user: string }>({
      scope: 'global',
      key: (req, body) => {
        seen.push(req.user, new TextDecoder().decode(body));
        return 'evt_1';
      },
    });
    const decision = await engine.begin(request({}), { user: 'u1' });
    expect(decision.action).toBe('execute');
    expect(seen).toEqual(['u1', '{"id":"evt_1"}']);
    if (decision.action === 'execute') decision.execution.cancel();
  });

  it('throws a typed error when a key function answers something other than a string', async () => {
    const engine = createIdempotencyEngine({ scope: 'global', key: () => 42 as never });
    await expect(engine.begin(request({}), {})).rejects.toMatchObject({
      code: 'ERR_ONCELY_INVALID_KEY_SOURCE',
    });
  });
});
