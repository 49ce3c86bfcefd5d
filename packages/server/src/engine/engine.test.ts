import { ProblemType } from '@oncely/core';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../store/memory-store.js';
import { createHangingStore, createRecordingStore, createSlowClaimStore } from '../testing/store-wrappers.js';
import { COMPLETE_ATTEMPTS } from './execution.js';
import { createIdempotencyEngine } from './engine.js';
import type { IdempotencyOptions } from './options.js';
import { BODY_TOO_LARGE } from './types.js';
import type { Decision, EngineRequest, Execution } from './types.js';

const request = (
  key: EngineRequest['keyHeader'],
  body = '{"a":1}',
  overrides: Partial<EngineRequest> = {},
): EngineRequest => ({
  method: 'POST',
  path: '/pay',
  query: '',
  keyHeader: key,
  headers: {},
  readBody: async () => new TextEncoder().encode(body),
  ...overrides,
});

const executionOf = (decision: Decision): Execution => {
  if (decision.action !== 'execute') throw new Error(`expected execute, got ${decision.action}`);
  return decision.execution;
};
const problemType = (decision: Decision): string => {
  if (decision.action !== 'respond') throw new Error(`expected respond, got ${decision.action}`);
  return JSON.parse(new TextDecoder().decode(decision.response.body)).type;
};
const ok = (text: string) => ({
  status: 201,
  headers: [['content-type', 'text/plain']] as const,
  body: new TextEncoder().encode(text),
});

/** Plays an adapter: a handler that answers `response` at once; resolves once the claim settled. */
async function answer(
  execution: Execution,
  response: { status: number; headers: ReadonlyArray<readonly [string, string]>; body: Uint8Array },
): Promise<void> {
  await execution.run(() => {
    execution.head(response.status, response.headers);
    execution.write(response.body);
    void execution.end();
  });
  await execution.settled;
}

/** A MemoryStore whose `complete` answers `fault()` instead, when that returns a promise. */
function withComplete(fault: () => Promise<never> | undefined): MemoryStore {
  const inner = new MemoryStore();
  return new Proxy(inner, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== 'function') return value;
      const bound = (value as (...args: unknown[]) => unknown).bind(target);
      if (property !== 'complete') return bound;
      return (...args: unknown[]) => fault() ?? bound(...args);
    },
  });
}

/** Plays an adapter whose handler throws. */
async function throwFrom(execution: Execution): Promise<void> {
  await execution
    .run(() => {
      throw new Error('boom');
    })
    .catch(() => undefined);
  await execution.settled;
}

describe('idempotency engine', () => {
  it('lets a retry take over an expired lease and fences out the first holder', async () => {
    let now = 1_000_000;
    const events: string[] = [];
    const store = new MemoryStore({ now: () => now });
    const engine = createIdempotencyEngine<null>({
      store,
      scope: 'global',
      lease: 60_000,
      onTakeover: (e) => events.push(`takeover:${e.fencingToken}`),
      onFenced: (e) => events.push(`fenced:${e.operation}:${e.fencingToken}`),
    });
    const first = executionOf(await engine.begin(request('k'), null));
    expect(problemType(await engine.begin(request('k'), null))).toBe(ProblemType.requestInProgress);
    now += 60_001; // the first one hangs past its lease (its heartbeat never ran: a crashed process)
    const second = executionOf(await engine.begin(request('k'), null));
    await answer(first, ok('late'));
    await answer(second, ok('winner'));
    expect(events).toEqual(['takeover:2', 'fenced:complete:1']);
    const replay = await engine.begin(request('k'), null);
    expect(replay.action === 'respond' && new TextDecoder().decode(replay.response.body)).toBe('winner');
  });

  it('waits a bounded time, then answers 409', async () => {
    const engine = createIdempotencyEngine<null>({ scope: 'global', wait: { timeoutMs: 60, pollMs: 10 } });
    executionOf(await engine.begin(request('k'), null));
    const started = Date.now();
    expect(problemType(await engine.begin(request('k'), null))).toBe(ProblemType.requestInProgress);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('runs again after a failed first attempt, for a waiting duplicate too', async () => {
    const engine = createIdempotencyEngine<null>({ scope: 'global', wait: { timeoutMs: 1000, pollMs: 5 } });
    const first = executionOf(await engine.begin(request('k'), null));
    const waiting = engine.begin(request('k'), null);
    await throwFrom(first);
    expect((await waiting).action).toBe('execute');
  });

  it('answers 503 when the store hangs past storeTimeout', async () => {
    const engine = createIdempotencyEngine<null>({
      scope: 'global',
      store: createHangingStore(),
      storeTimeout: 20,
    });
    const decision = await engine.begin(request('k'), null);
    expect(problemType(decision)).toBe(ProblemType.storeUnavailable);
    expect(decision.action === 'respond' && decision.response.headers).toContainEqual(['retry-after', '1']);
  });

  it('survives hooks that throw or reject', async () => {
    const engine = createIdempotencyEngine<null>({
      scope: 'global',
      onClaim: () => {
        throw new Error('hook bug');
      },
      onReplay: () => Promise.reject(new Error('async hook bug')) as never,
    });
    await answer(executionOf(await engine.begin(request('k'), null)), ok('x'));
    expect((await engine.begin(request('k'), null)).action).toBe('respond');
  });

  it('reads no body and touches no store for passed-through or invalid requests', async () => {
    let reads = 0;
    const engine = createIdempotencyEngine<null>({
      scope: 'global',
      store: createHangingStore(),
      storeTimeout: 10_000,
    });
    const readBody = async () => {
      reads += 1;
      return new Uint8Array(0);
    };
    expect((await engine.begin(request(undefined, '', { readBody }), null)).action).toBe('pass');
    expect((await engine.begin(request('k', '', { method: 'GET', readBody }), null)).action).toBe('pass');
    expect(problemType(await engine.begin(request(['a', 'b'], '', { readBody }), null))).toBe(
      ProblemType.keyInvalid,
    );
    expect(reads).toBe(0);
  });

  it('answers 413 for a body over maxRequestBytes, claiming and storing nothing', async () => {
    const store = createRecordingStore(new MemoryStore());
    const engine = createIdempotencyEngine<null>({ store, scope: 'global', maxRequestBytes: 4 });
    const limits: number[] = [];
    const refused = await engine.begin(
      request('k', '', {
        readBody: async (maxBytes) => {
          limits.push(maxBytes);
          return BODY_TOO_LARGE;
        },
      }),
      null,
    );
    expect(limits).toEqual([4]);
    expect(refused).toMatchObject({ action: 'respond', replayed: false, response: { status: 413 } });
    if (refused.action !== 'respond') return;
    expect(refused.response.headers).toEqual([
      ['content-type', 'application/problem+json'],
      ['cache-control', 'no-store'],
      ['x-should-retry', 'false'],
    ]);
    expect(JSON.parse(new TextDecoder().decode(refused.response.body))).toEqual({
      type: ProblemType.requestTooLarge,
      title: 'Request body is too large',
      status: 413,
      detail:
        'The request body is larger than the 4 bytes accepted with an Idempotency-Key; the request was not run.',
      idempotencyKey: 'k',
    });
    // A reader that ignores the limit is refused all the same; a body of exactly the limit runs.
    expect(problemType(await engine.begin(request('k', '12345'), null))).toBe(ProblemType.requestTooLarge);
    expect(store.calls).toEqual([]);
    expect((await engine.begin(request('k', '1234'), null)).action).toBe('execute');
  });

  it('uses a custom fingerprint, and refuses a scope or fingerprint that is not a string', async () => {
    const options: IdempotencyOptions<string> = {
      scope: (tenant) => tenant,
      fingerprint: () => 'always-the-same',
    };
    const engine = createIdempotencyEngine(options);
    await answer(executionOf(await engine.begin(request('k', 'one'), 't')), ok('x'));
    expect((await engine.begin(request('k', 'two'), 't')).action).toBe('respond');
    await expect(engine.begin(request('k'), '')).rejects.toThrow(
      /`scope` function must return a non-empty string/,
    );
    const broken = createIdempotencyEngine<null>({ scope: 'global', fingerprint: () => 42 as never });
    await expect(broken.begin(request('k'), null)).rejects.toThrow(/`fingerprint` function/);
  });

  it('answers "not replayable" with the original status for a body that was not kept', async () => {
    const engine = createIdempotencyEngine<null>({ scope: 'global', maxResponseBytes: 4 });
    await answer(executionOf(await engine.begin(request('k'), null)), {
      status: 202,
      headers: [],
      body: new Uint8Array(5),
    });
    const replay = await engine.begin(request('k'), null);
    expect(problemType(replay)).toBe(ProblemType.responseNotReplayable);
    if (replay.action !== 'respond') return;
    expect(replay.response.status).toBe(500);
    expect(JSON.parse(new TextDecoder().decode(replay.response.body))).toMatchObject({
      originalStatus: 202,
      idempotencyKey: 'k',
    });
  });

  it('extends the lease while the handler runs, and stops when it is done', async () => {
    const store = new MemoryStore();
    const engine = createIdempotencyEngine<null>({ scope: 'global', store, lease: 60, storeTimeout: 30 });
    const execution = executionOf(await engine.begin(request('k'), null));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(problemType(await engine.begin(request('k'), null))).toBe(ProblemType.requestInProgress);
    await throwFrom(execution);
    expect(store.size).toBe(0);
  });

  it('releases a claim that landed after the engine gave it up (503), so the key is not held', async () => {
    const inner = new MemoryStore();
    const failures: string[] = [];
    const engine = createIdempotencyEngine<null>({
      scope: 'global',
      store: createSlowClaimStore(inner, 60),
      storeTimeout: 20,
      onStoreFailure: (e) => failures.push(e.operation),
    });
    expect(problemType(await engine.begin(request('k'), null))).toBe(ProblemType.storeUnavailable);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect([inner.size, failures]).toEqual([0, ['claim']]);
  });

  it('retries a failed complete() while the heartbeat holds the lease, then replays', async () => {
    let failuresLeft = COMPLETE_ATTEMPTS - 1;
    const store = withComplete(() => (failuresLeft-- > 0 ? Promise.reject(new Error('blip')) : undefined));
    const failures: string[] = [];
    const engine = createIdempotencyEngine<null>({
      scope: 'global',
      store,
      onStoreFailure: (e) => failures.push(e.operation),
    });
    await answer(executionOf(await engine.begin(request('k'), null)), ok('kept'));
    expect(failures).toEqual(Array.from({ length: COMPLETE_ATTEMPTS - 1 }, () => 'complete'));
    const replay = await engine.begin(request('k'), null);
    expect(replay.action === 'respond' && new TextDecoder().decode(replay.response.body)).toBe('kept');
  });

  it(`leaves the key to its lease after ${COMPLETE_ATTEMPTS} failed complete() calls`, async () => {
    const store = withComplete(() => Promise.reject(new Error('down')));
    const failures: string[] = [];
    const engine = createIdempotencyEngine<null>({
      scope: 'global',
      store,
      lease: 90,
      storeTimeout: 30,
      onStoreFailure: (e) => failures.push(e.operation),
    });
    await answer(executionOf(await engine.begin(request('k'), null)), ok('lost'));
    expect(failures).toEqual(Array.from({ length: COMPLETE_ATTEMPTS }, () => 'complete'));
    // The heartbeat stopped with the last try: once the lease ran out, a retry runs again.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await engine.begin(request('k'), null)).action).toBe('execute');
  });
});
