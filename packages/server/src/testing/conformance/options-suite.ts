import { randomUUID } from 'node:crypto';
import { ProblemType } from '@oncely/core';
import { describe, expect, it } from '../runner.js';
import type { ShouldStore } from '../../engine/should-store.js';
import { MemoryStore } from '../../store/memory-store.js';
import { rawRequest } from '../raw-http.js';
import { send, withStartedApp } from './app.js';
import type { RunningApp } from './app.js';
import type { ConformanceApp, ConformanceHarness } from './types.js';

const PAYPAL = 'PayPal-Request-Id';

/** A webhook's event id, from the raw body bytes the engine read (`undefined` when there is none). */
function eventIdOf(_request: unknown, body: Uint8Array): string | undefined {
  const event = JSON.parse(new TextDecoder().decode(body)) as { id?: unknown };
  return typeof event.id === 'string' ? event.id : undefined;
}

/** Decides by status and headers, one case per status the conformance routes answer. */
const shouldStore: ShouldStore = ({ status, headers }) => {
  if (status === 503) return 'store';
  if (status === 202) return 'release';
  if (status === 418) throw new Error('a broken shouldStore');
  if (headers['x-internal'] === 'secret') return 'store-without-body';
  return undefined;
};

/**
 * The options that change where the key comes from (`key`) and what is kept (`shouldStore`): the
 * engine applies them, so every adapter behaves the same with them.
 */
export function describeOptionsConformance(name: string, harness: ConformanceHarness): void {
  const withApp = (options: ConformanceApp['options'], test: (app: RunningApp) => Promise<void>) =>
    withStartedApp(harness, options, test);
  const key = (): string => randomUUID();

  describe(`${name}: key source and shouldStore`, () => {
    it(`reads the key from ${PAYPAL} when configured, by the same rules, and ignores Idempotency-Key`, () =>
      withApp({ store: new MemoryStore(), key: { header: PAYPAL } }, async (app) => {
        const k = key();
        const first = await send(app.url, '/echo', { headers: { [PAYPAL]: k } });
        const replay = await send(app.url, '/echo', { headers: { [PAYPAL]: `"${k}"` } });
        expect([first.status, replay.status, replay.headers.get('idempotent-replayed')]).toEqual([
          201,
          201,
          'true',
        ]);
        expect(replay.bytes.equals(first.bytes)).toBe(true);
        // The default header is no key here: each such request runs.
        const other = key();
        await send(app.url, '/echo', { key: other });
        await send(app.url, '/echo', { key: other });
        expect(app.count()).toBe(3);
        const repeated = await rawRequest(app.url, {
          path: '/echo',
          headerLines: [`${PAYPAL}: ${key()}`, `${PAYPAL}: ${key()}`],
        });
        expect([repeated.status, JSON.parse(repeated.body).type]).toEqual([400, ProblemType.keyInvalid]);
        expect(JSON.parse(repeated.body).detail).toContain(`The ${PAYPAL} header was sent more than once`);
        expect(app.count()).toBe(3);
      }));

    it(`answers 400 naming ${PAYPAL} when it is required and missing`, () =>
      withApp({ store: new MemoryStore(), key: { header: PAYPAL }, required: true }, async (app) => {
        const missing = await send(app.url, '/echo', { key: key() });
        expect([missing.status, missing.json().type, missing.json().detail]).toEqual([
          400,
          ProblemType.keyMissing,
          `POST requests to this endpoint need a ${PAYPAL} header.`,
        ]);
        expect(app.count()).toBe(0);
      }));

    it('takes the key from the body through a function: a redelivered webhook event runs once', () =>
      withApp({ store: new MemoryStore(), key: eventIdOf }, async (app) => {
        const event = JSON.stringify({ id: `evt_${key()}`, type: 'payment_intent.succeeded' });
        const first = await send(app.url, '/echo', { body: event });
        const again = await send(app.url, '/echo', { body: event });
        expect([first.status, again.status, again.headers.get('idempotent-replayed')]).toEqual([
          201,
          201,
          'true',
        ]);
        expect(again.bytes.equals(first.bytes)).toBe(true);
        // No id in the body: no key, so it runs unprotected; an invalid id is refused.
        await send(app.url, '/echo', { body: '{"type":"ping"}' });
        const invalid = await send(app.url, '/echo', { body: JSON.stringify({ id: 'évt' }) });
        expect([invalid.status, invalid.json().type]).toEqual([400, ProblemType.keyInvalid]);
        expect(app.count()).toBe(2);
      }));

    it('lets shouldStore keep, release or keep without body each response, by status and headers', () =>
      withApp({ store: new MemoryStore(), shouldStore }, async (app) => {
        const twice = async (path: string) => {
          const k = key();
          return [await send(app.url, path, { key: k }), await send(app.url, path, { key: k })] as const;
        };
        // 'store': a 503 is kept and replayed (the default would release it).
        const [failed, failedAgain] = await twice('/status/503');
        expect([failed.status, failedAgain.status, failedAgain.headers.get('idempotent-replayed')]).toEqual([
          503,
          503,
          'true',
        ]);
        expect(app.count('/status/503')).toBe(1);
        // 'release': a 202 is not kept, so a retry runs again.
        const [accepted, acceptedAgain] = await twice('/status/202');
        expect([accepted.json(), acceptedAgain.json()]).toEqual([{ count: 1 }, { count: 2 }]);
        expect(acceptedAgain.headers.get('idempotent-replayed')).toBeNull();
        // 'store-without-body' (chosen by a header): never run again, never replayed.
        const [secret, secretAgain] = await twice('/echo');
        expect(secret.status).toBe(201);
        expect([secretAgain.status, secretAgain.json().type, secretAgain.json().originalStatus]).toEqual([
          500,
          ProblemType.responseNotReplayable,
          201,
        ]);
        expect(app.count('/echo')).toBe(1);
        // A shouldStore that throws keeps the response without its body.
        const [teapot, teapotAgain] = await twice('/status/418');
        expect([teapot.status, teapotAgain.json().type, teapotAgain.json().originalStatus]).toEqual([
          418,
          ProblemType.responseNotReplayable,
          418,
        ]);
        expect(app.count('/status/418')).toBe(1);
        // undefined: the default rules (a 200 is kept and replayed).
        const [plain, plainAgain] = await twice('/status/200');
        expect([plain.status, plainAgain.headers.get('idempotent-replayed')]).toEqual([200, 'true']);
        expect(plainAgain.bytes.equals(plain.bytes)).toBe(true);
      }));
  });
}
