import { describe, expect, it } from 'vitest';
import { createIdempotencyEngine } from '../engine/engine.js';
import type { IdempotencyEvent } from '../engine/hooks.js';
import type { Decision, EngineRequest, Execution } from '../engine/types.js';
import { MemoryStore } from '../store/memory-store.js';
import { createFailingStore } from '../testing/store-wrappers.js';
import type { StoreCallEvent } from './timed-store.js';

const KEY = '5f0c8a7e-1b2d-4c3e-9f4a-0123456789ab';
const request = (): EngineRequest => ({
  method: 'POST',
  path: '/pay',
  query: 'token=secret-query',
  keyHeader: KEY,
  headers: {},
  readBody: async () => new TextEncoder().encode('{"card":"secret-body"}'),
});
const executionOf = (decision: Decision): Execution => {
  if (decision.action !== 'execute') throw new Error(`expected execute, got ${decision.action}`);
  return decision.execution;
};
const ok = { status: 201, headers: [], body: new TextEncoder().encode('done') };

/** Plays an adapter: the handler answers `response` at once; resolves once the claim settled. */
async function complete(execution: Execution, response: typeof ok): Promise<void> {
  await execution.run(() => {
    execution.head(response.status, response.headers);
    execution.write(response.body);
    void execution.end();
  });
  await execution.settled;
}

function recorder() {
  const lines: string[] = [];
  return {
    lines,
    logger: {
      warn: (line: string) => void lines.push(`warn ${line}`),
      error: (line: string) => void lines.push(`error ${line}`),
    },
  };
}

describe('the logger option', () => {
  it('warns on a takeover and reports the fenced late completion as an error, never the body or whole key', async () => {
    let now = 1_000_000;
    const { lines, logger } = recorder();
    const engine = createIdempotencyEngine<null>({
      store: new MemoryStore({ now: () => now }),
      scope: 'global',
      lease: 60_000,
      logger,
    });
    const first = executionOf(await engine.begin(request(), null));
    now += 60_001; // the first one's process hung past its lease
    const second = executionOf(await engine.begin(request(), null));
    await complete(first, ok);
    await complete(second, ok);
    expect(lines).toEqual([
      'warn oncely: a request took over a key whose lease had run out: the request holding it crashed, hung or ran past its lease, and this one runs it again. (POST /pay, key 5f0c8a7e…, fencing token 2)',
      'error oncely: a request finished after another request took over its key (it ran past its lease): its response was not stored and its side effects may have happened twice. Raise `lease` or find why the handler took so long. (POST /pay, key 5f0c8a7e…, fencing token 1)',
    ]);
    expect(lines.join()).not.toMatch(/secret|9abc|0123456789ab/);
  });

  it('names the store failure and its cause chain, and rate-limits it per logger across engines', async () => {
    const { lines, logger } = recorder();
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
    const store = createFailingStore(() => new Error('Redis claim failed', { cause }));
    const engines = [1, 2].map(() => createIdempotencyEngine<null>({ store, scope: 'global', logger }));
    for (const engine of [...engines, ...engines])
      expect((await engine.begin(request(), null)).action).toBe('respond');
    expect(lines).toEqual([
      'warn oncely: store unavailable: a key could not be claimed, so requests with a key are answered 503 until the store works again. Cause: Redis claim failed: connect ECONNREFUSED 127.0.0.1:6379. (POST /pay, key 5f0c8a7e…)',
    ]);
  });

  it('is silent with `false` and refuses what is not a logger, naming the option', () => {
    expect(() => createIdempotencyEngine({ scope: 'global', logger: false })).not.toThrow();
    expect(() =>
      createIdempotencyEngine({ scope: 'global', logger: { warn: () => undefined } as never }),
    ).toThrow(/Invalid option `logger`/);
  });
});

describe('the telemetry option', () => {
  it('hears every event after the user hooks, even when a user hook throws', async () => {
    const heard: string[] = [];
    const engine = createIdempotencyEngine<null>({
      scope: 'global',
      logger: false,
      onClaim: () => {
        heard.push('user claim');
        throw new Error('user hook bug');
      },
      telemetry: [
        { onClaim: () => void heard.push('telemetry claim') },
        {
          onComplete: (event: IdempotencyEvent & { status: number }) =>
            void heard.push(`complete ${event.status}`),
        },
      ],
    });
    await complete(executionOf(await engine.begin(request(), null)), ok);
    expect(heard).toEqual(['user claim', 'telemetry claim', 'complete 201']);
  });

  it('times store calls through a wrapper that keeps the store what it was', async () => {
    const calls: StoreCallEvent[] = [];
    const store = new MemoryStore();
    const engine = createIdempotencyEngine<null>({
      scope: 'global',
      store,
      telemetry: { onStoreCall: (event) => void calls.push(event) },
    });
    expect(engine.options.store).toBeInstanceOf(MemoryStore);
    expect(engine.options.store.executeTransactionally).toBeUndefined();
    await complete(executionOf(await engine.begin(request(), null)), ok);
    await engine.begin(request(), null);
    expect(calls.map(({ operation, outcome }) => `${operation} ${outcome}`)).toEqual([
      'claim claimed',
      'complete ok',
      'claim completed',
    ]);
    expect(
      calls.every((call) => call.durationMs >= 0 && /^[0-9a-f]{16}:[0-9a-f]{64}$/.test(call.storeKey)),
    ).toBe(true);
    // An engine built from the first one's resolved store times each call once, not twice.
    const again: StoreCallEvent[] = [];
    const second = createIdempotencyEngine<null>({
      scope: 'global',
      store: engine.options.store,
      telemetry: { onStoreCall: (event) => void again.push(event) },
    });
    await second.begin(request(), null);
    expect(again).toHaveLength(1);
    expect(calls).toHaveLength(3);
  });

  it('refuses what is not a set of listeners, naming the option', () => {
    expect(() => createIdempotencyEngine({ scope: 'global', telemetry: 5 as never })).toThrow(
      /Invalid option `telemetry`/,
    );
    expect(() =>
      createIdempotencyEngine({ scope: 'global', telemetry: [{ onClaim: 'x' }] as never }),
    ).toThrow(/Invalid option `telemetry\[0\]\.onClaim`/);
  });
});
