import { ProblemType } from '@oncely/core';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../store/memory-store.js';
import type { ExecuteTransactionally, IdempotencyStore } from '../store/types.js';
import { createIdempotencyEngine } from './engine.js';
import type { IdempotencyOptions } from './options.js';
import type { EngineRequest, Execution, Settlement } from './types.js';

const request: EngineRequest = {
  method: 'POST',
  path: '/pay',
  query: '',
  keyHeader: 'k',
  headers: {},
  readBody: async () => new Uint8Array(0),
};
const created = { status: 201, headers: [['content-type', 'text/plain']] as const, body: new Uint8Array(1) };

/** A MemoryStore whose transactional capability is `execute`. */
function storeWith(execute: ExecuteTransactionally): IdempotencyStore & { inner: MemoryStore } {
  const inner = new MemoryStore();
  return {
    inner,
    claim: (claim) => inner.claim(claim),
    complete: (key, token, response) => inner.complete(key, token, response),
    release: (key, token) => inner.release(key, token),
    extend: (key, token, leaseMs) => inner.extend(key, token, leaseMs),
    get: (key) => inner.get(key),
    delete: (key) => inner.delete(key),
    executeTransactionally: execute,
  };
}

async function execution(store: IdempotencyStore, options: Partial<IdempotencyOptions<null>> = {}) {
  const engine = createIdempotencyEngine<null>({ store, scope: 'global', ...options });
  const decision = await engine.begin(request, null);
  if (decision.action !== 'execute' || !decision.execution.transactional) throw new Error('no transaction');
  return decision.execution;
}

/** Plays an adapter: a handler answering `response`; resolves to the settlement. */
function answer(running: Execution, response: typeof created, ran?: () => void): Promise<Settlement> {
  void running
    .run(async () => {
      ran?.();
      running.head(response.status, response.headers);
      running.write(response.body);
      void running.end();
    })
    .catch(() => undefined);
  return running.settled;
}

const problemOf = (result: Settlement) => {
  if (result.action !== 'respond') throw new Error('expected a replacement');
  const { type } = JSON.parse(new TextDecoder().decode(result.response.body)) as { type: string };
  return [result.response.status, type];
};

describe('transactional execution', () => {
  it('is offered only when the store has executeTransactionally', async () => {
    const engine = createIdempotencyEngine<null>({ store: new MemoryStore(), scope: 'global' });
    const decision = await engine.begin(request, null);
    expect(decision.action === 'execute' && decision.execution.transactional).toBe(false);
  });

  it('passes the decision by the usual rules, and sends on completed or released', async () => {
    const decisions: unknown[] = [];
    const store = storeWith(async (_key, _token, run) => {
      const decision = await run();
      decisions.push(decision);
      return decision.action === 'complete' ? 'completed' : 'released';
    });
    const events: string[] = [];
    const options = { onRelease: (e: { reason: string }) => events.push(`release:${e.reason}`) };
    expect(await answer(await execution(store, options), created)).toEqual({ action: 'send' });
    const second = createIdempotencyEngine<null>({ store, scope: () => 'tenant', ...options });
    const decision = await second.begin(request, null);
    if (decision.action !== 'execute') throw new Error('no execution');
    expect(await answer(decision.execution, { ...created, status: 503 })).toEqual({ action: 'send' });
    expect(decisions).toEqual([
      {
        action: 'complete',
        response: { status: 201, headers: [['content-type', 'text/plain']], body: created.body },
      },
      { action: 'release' },
    ]);
    expect(events).toEqual(['release:status']);
  });

  it('rethrows the handler error even when the store fails on its own while rolling back', async () => {
    const failures: string[] = [];
    const store = storeWith(async (_key, _token, run) => {
      await run().catch(() => undefined);
      throw new Error('ROLLBACK failed');
    });
    const running = await execution(store, { onStoreFailure: (e) => failures.push(e.operation) });
    await expect(
      running.run(async () => {
        throw new Error('handler bug');
      }),
    ).rejects.toThrow('handler bug');
    expect(await running.settled).toEqual({ action: 'discard' });
    expect(failures).toEqual(['transaction']);
  });

  it('answers 503 and frees the key at once when the transaction cannot begin', async () => {
    const store = storeWith(async () => {
      throw new Error('BEGIN failed');
    });
    const running = await execution(store);
    let ran = false;
    const result = await answer(running, created, () => (ran = true));
    expect([ran, ...problemOf(result)]).toEqual([false, 503, ProblemType.storeUnavailable]);
    const again = await createIdempotencyEngine<null>({ store, scope: 'global' }).begin(request, null);
    expect(again.action).toBe('execute');
  });

  it('answers 409 on superseded and 503 on an outcome that does not match the decision', async () => {
    const fenced: string[] = [];
    const superseded = storeWith(async (_key, _token, run) => (await run(), 'superseded'));
    const result = await answer(
      await execution(superseded, { onFenced: (e) => fenced.push(e.operation) }),
      created,
    );
    expect(problemOf(result)).toEqual([409, ProblemType.requestInProgress]);
    expect(fenced).toEqual(['complete']);
    const broken = storeWith(async (_key, _token, run) => (await run(), 'unknown' as never));
    expect(problemOf(await answer(await execution(broken), created))).toEqual([
      503,
      ProblemType.storeUnavailable,
    ]);
  });
});
