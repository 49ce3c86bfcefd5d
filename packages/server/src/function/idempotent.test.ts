import { randomUUID } from 'node:crypto';
import { CoreErrorCode } from '@oncely/core';
import { describe, expect, it } from 'vitest';
import { ServerErrorCode } from '../engine/errors.js';
import { MemoryStore } from '../store/memory-store.js';
import { createFailingStore } from '../testing/store-wrappers.js';
import { createTransactionalMemoryStore } from '../testing/transactional-store.js';
import { isIdempotentCallError } from './errors.js';
import { idempotent } from './idempotent.js';

interface Order {
  id: string;
  amount: number;
}

const order = (amount = 100): Order => ({ id: `ord_${randomUUID()}`, amount });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The error a call rejected with (fails the test when it resolved). */
async function rejection(call: Promise<unknown>): Promise<{ code?: string; [field: string]: unknown }> {
  return call.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error as { code?: string },
  );
}

/** A function that counts its runs, answering a charge for the order. */
function charging() {
  const runs: string[] = [];
  const charge = async (o: Order) => {
    runs.push(o.id);
    await sleep(5);
    return { charged: o.amount, at: new Date(0), run: runs.length };
  };
  return { charge, runs };
}

describe('idempotent()', () => {
  it('runs once per key and replays the JSON result, the first call returning the same JSON', async () => {
    const { charge, runs } = charging();
    const chargeOnce = idempotent(charge, { name: 'charge', key: (o) => o.id, store: new MemoryStore() });
    const o = order();
    const first = await chargeOnce(o);
    const again = await chargeOnce(o);
    expect(first).toEqual({ charged: 100, at: '1970-01-01T00:00:00.000Z', run: 1 });
    expect(again).toEqual(first);
    expect(runs).toEqual([o.id]);
    // Another key runs.
    await chargeOnce(order());
    expect(runs).toHaveLength(2);
  });

  it('refuses a concurrent duplicate with ERR_ONCELY_IN_PROGRESS, or lets it wait for the result', async () => {
    const { charge, runs } = charging();
    const store = new MemoryStore();
    const refusing = idempotent(charge, { name: 'charge', key: (o) => o.id, store, lease: 5000 });
    const o = order();
    const [first, duplicate] = await Promise.allSettled([refusing(o), refusing(o)]);
    expect(first).toMatchObject({ status: 'fulfilled', value: { run: 1 } });
    expect(duplicate).toMatchObject({ status: 'rejected', reason: { code: ServerErrorCode.inProgress } });
    const reason = (duplicate as PromiseRejectedResult).reason as { retryAfterMs: number };
    expect(reason.retryAfterMs).toBeGreaterThan(0);
    expect(reason.retryAfterMs).toBeLessThanOrEqual(5000);
    expect(isIdempotentCallError(reason)).toBe(true);

    const waiting = idempotent(charge, { name: 'charge-waiting', key: (o) => o.id, store, wait: true });
    const p = order();
    expect(await Promise.all([waiting(p), waiting(p), waiting(p)])).toEqual([
      { charged: 100, at: '1970-01-01T00:00:00.000Z', run: 2 },
      { charged: 100, at: '1970-01-01T00:00:00.000Z', run: 2 },
      { charged: 100, at: '1970-01-01T00:00:00.000Z', run: 2 },
    ]);
    expect(runs).toEqual([o.id, p.id]);
  });

  it('rethrows what the function throws, with the key released so a retry runs again', async () => {
    let runs = 0;
    const flaky = idempotent(
      async (o: Order) => {
        runs += 1;
        if (runs === 1) throw new Error('card declined');
        return o.amount;
      },
      { name: 'flaky', key: (o) => o.id, store: new MemoryStore() },
    );
    const o = order();
    await expect(flaky(o)).rejects.toThrow('card declined');
    expect(await flaky(o)).toBe(100);
    expect(await flaky(o)).toBe(100);
    expect(runs).toBe(2);
  });

  it('refuses a key reused with other arguments; equal arguments in another key order are the same', async () => {
    const { charge, runs } = charging();
    const chargeOnce = idempotent(charge, { name: 'charge', key: (o) => o.id, store: new MemoryStore() });
    const o = order();
    await chargeOnce(o);
    expect(await chargeOnce({ amount: o.amount, id: o.id })).toMatchObject({ run: 1 });
    const reused = await rejection(chargeOnce({ ...o, amount: 5 }));
    expect([reused.code, reused.idempotencyKey]).toEqual([ServerErrorCode.keyReused, o.id]);
    expect(runs).toHaveLength(1);
  });

  it('keeps functions (name) and tenants (scope) apart, even for equal keys', async () => {
    const store = new MemoryStore();
    const calls: string[] = [];
    const make = (name: string) =>
      idempotent(
        async (tenant: string, jobId: string) => {
          calls.push(`${name}:${tenant}:${jobId}`);
          return name;
        },
        { name, key: (_tenant, jobId) => jobId, scope: (tenant) => tenant, store },
      );
    const [a, b] = [make('queue-a'), make('queue-b')];
    const results = [];
    for (const call of [() => a('t1', '1'), () => b('t1', '1'), () => a('t2', '1'), () => a('t1', '1')]) {
      results.push(await call());
    }
    expect(results).toEqual(['queue-a', 'queue-b', 'queue-a', 'queue-a']);
    expect(calls).toEqual(['queue-a:t1:1', 'queue-b:t1:1', 'queue-a:t2:1']);
  });

  it('throws ERR_ONCELY_RESULT_NOT_SERIALIZABLE once, then never runs the function again for the key', async () => {
    let runs = 0;
    const bigint = idempotent(
      async () => {
        runs += 1;
        return { total: 10n };
      },
      { name: 'bigint', key: () => 'k1', store: new MemoryStore() },
    );
    const first = await rejection(bigint());
    expect([first.code, first.idempotencyKey]).toEqual([ServerErrorCode.resultNotSerializable, 'k1']);
    expect(first.cause).toBeInstanceOf(TypeError);
    const again = await rejection(bigint());
    expect(again.code).toBe(ServerErrorCode.resultNotReplayable);
    expect(runs).toBe(1);
  });

  it('returns a result over maxResultBytes to its caller; duplicates get ERR_ONCELY_RESULT_NOT_REPLAYABLE', async () => {
    let runs = 0;
    const large = idempotent(
      async () => {
        runs += 1;
        return 'x'.repeat(20);
      },
      { name: 'large', key: () => 'k1', store: new MemoryStore(), maxResultBytes: 16 },
    );
    expect(await large()).toBe('x'.repeat(20));
    expect((await rejection(large())).code).toBe(ServerErrorCode.resultNotReplayable);
    expect(runs).toBe(1);
  });

  it('replays undefined, null and plain values as they were', async () => {
    const store = new MemoryStore();
    for (const value of [undefined, null, 0, '', false, [1, 'a']]) {
      let runs = 0;
      const fn = idempotent(
        async () => {
          runs += 1;
          return value;
        },
        { name: `value-${JSON.stringify(value) ?? 'undefined'}`, key: () => 'k', store },
      );
      expect([await fn(), await fn(), runs]).toEqual([value, value, 1]);
    }
  });

  it('passes `this` through, so a method can be wrapped', async () => {
    const service = {
      prefix: 'receipt:',
      send: idempotent(
        async function (this: { prefix: string }, id: string) {
          return this.prefix + id;
        },
        { name: 'send', key: (id) => id, store: new MemoryStore() },
      ),
    };
    expect(await service.send('42')).toBe('receipt:42');
  });

  it('refuses an invalid key and unfingerprintable arguments before anything is claimed', async () => {
    const store = new MemoryStore();
    let runs = 0;
    const fn = idempotent(
      async (_value: unknown) => {
        runs += 1;
      },
      { name: 'fn', key: (value) => String(value), store },
    );
    expect((await rejection(fn(''))).code).toBe(CoreErrorCode.invalidKey);
    expect((await rejection(fn('é'))).code).toBe(CoreErrorCode.invalidKey);
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    const byId = idempotent(
      async (_value: unknown) => {
        runs += 1;
      },
      { name: 'by-id', key: () => 'k', store },
    );
    expect((await rejection(byId(cyclic))).code).toBe(ServerErrorCode.argumentsNotSerializable);
    expect([runs, store.size]).toEqual([0, 0]);
  });

  it('fails closed when the store is down, or runs unprotected with fail-open (reported)', async () => {
    let runs = 0;
    const failures: string[] = [];
    const options = {
      name: 'down',
      key: () => 'k',
      store: createFailingStore(),
      onStoreFailure: (e: { operation: string; failOpen: boolean }) =>
        failures.push(`${e.operation}:${e.failOpen}`),
    };
    const work = async () => {
      runs += 1;
      return runs;
    };
    const closed = await rejection(idempotent(work, options)());
    expect([closed.code, runs]).toEqual([ServerErrorCode.storeUnavailable, 0]);
    expect(await idempotent(work, { ...options, onStoreError: 'fail-open' })()).toBe(1);
    expect(failures).toEqual(['claim:false', 'claim:true']);
  });

  it('reports through the hooks with method CALL and the function name as path', async () => {
    const events: string[] = [];
    const fn = idempotent(async () => 1, {
      name: 'hooked',
      key: () => 'k',
      store: new MemoryStore(),
      onClaim: (e) => events.push(`claim ${e.method} ${e.path} ${e.idempotencyKey} ${e.scope}`),
      onReplay: (e) => events.push(`replay ${e.status} ${e.replayable}`),
    });
    await fn();
    await fn();
    expect(events).toEqual(['claim CALL hooked k global', 'replay 200 true']);
  });

  it('lets a duplicate take over a call that hangs past its lease; the late result is fenced', async () => {
    const lease = 150;
    const fenced: string[] = [];
    let release!: () => void;
    const hung = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    const fn = idempotent(
      async () => {
        const run = (runs += 1);
        if (run === 1) await hung;
        return run;
      },
      {
        name: 'hangs',
        key: () => 'k',
        store: new MemoryStore(),
        lease,
        storeTimeout: lease / 3,
        maxExecution: 2 * lease,
        ttl: 60_000,
        onFenced: (e) => fenced.push(e.operation),
      },
    );
    const first = fn();
    await sleep(lease);
    expect((await rejection(fn())).code).toBe(ServerErrorCode.inProgress);
    // Past maxExecution the heartbeat stops; the lease then runs out.
    let taken: number | undefined;
    const deadline = Date.now() + 20 * lease;
    while (taken === undefined && Date.now() < deadline) {
      await sleep(lease / 3);
      taken = await fn().catch(() => undefined);
    }
    expect(taken).toBe(2);
    release();
    expect(await first).toBe(1);
    expect(fenced).toEqual(['complete']);
    expect(await fn()).toBe(2);
  });

  it('validates its options when the function is wrapped', () => {
    const fn = async () => 1;
    const store = new MemoryStore();
    expect(() => idempotent(fn, { name: '', key: () => 'k', store })).toThrow(/`name`.*""/);
    expect(() => idempotent(fn, { name: 'n', key: 'k' as never, store })).toThrow(/`key`.*"k"/);
    expect(() => idempotent(fn, { name: 'n', key: () => 'k', scope: 'tenant' as never })).toThrow(
      /`scope`.*"tenant"/,
    );
    expect(() => idempotent(fn, { name: 'n', key: () => 'k', maxResultBytes: -1 })).toThrow(
      /`maxResultBytes`.*-1/,
    );
    expect(() => idempotent(fn, { name: 'n', key: () => 'k', lease: 0 })).toThrow(/`lease`.*0/);
    expect(() => idempotent('nope' as never, { name: 'n', key: () => 'k' })).toThrow(/needs a function/);
  });
});

describe('idempotent() with a transactional store', () => {
  it('commits the writes with the result; a throw or a result JSON cannot hold rolls them back', async () => {
    const store = createTransactionalMemoryStore();
    let runs = 0;
    const fn = idempotent(
      async (kind: 'ok' | 'throw' | 'bigint') => {
        runs += 1;
        store.write(`${kind}:${runs}`);
        if (kind === 'throw' && runs < 3) throw new Error('declined');
        return kind === 'bigint' && runs < 5 ? 1n : runs;
      },
      { name: 'tx', key: (kind) => kind, store },
    );
    expect([await fn('ok'), await fn('ok')]).toEqual([1, 1]);
    expect(store.committed).toEqual(['ok:1']);
    await expect(fn('throw')).rejects.toThrow('declined');
    expect(await fn('throw')).toBe(3);
    // Rolled back and released: nothing half-done stays, so the call may run again.
    expect((await rejection(fn('bigint'))).code).toBe(ServerErrorCode.resultNotSerializable);
    expect(await fn('bigint')).toBe(5);
    expect(store.committed).toEqual(['ok:1', 'throw:3', 'bigint:5']);
    expect(runs).toBe(5);
  });

  it('does not run the function when the transaction cannot begin', async () => {
    const store = createTransactionalMemoryStore();
    store.faults.begin = true;
    let runs = 0;
    const fn = idempotent(
      async () => {
        runs += 1;
      },
      { name: 'tx', key: () => 'k', store },
    );
    const error = await rejection(fn());
    expect([error.code, runs]).toEqual([ServerErrorCode.storeUnavailable, 0]);
    store.faults.begin = false;
    await fn();
    expect(runs).toBe(1);
  });
});
