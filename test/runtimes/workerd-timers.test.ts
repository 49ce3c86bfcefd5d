import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LEASE_MS } from './app.js';
import { appClient, expectInProgress, sleep } from './app-client.js';
import { startRuntime } from './launch.js';
import type { RunningRuntime } from './launch.js';

/**
 * The engine's timers (lease heartbeat, store-call deadlines) inside workerd. These FAIL against the
 * engine as it is: its deadline queues share one timer per delay across requests, and
 * - a worker's timer belongs to the request that armed it and never fires once that request has
 *   ended: the heartbeats of every later request wait behind a dead timer, the lease runs out, and a
 *   duplicate takes the key over while the first still runs (twice run);
 * - without `enable_nodejs_global_timers` (a compatibility date before it, or
 *   `no_nodejs_global_timers`) `setTimeout` returns a number, and the queue's `timer.ref()` /
 *   `timer.unref()` throw: claims answer 500 and requests hang.
 * Per-request timers (one `setTimeout` per deadline where the runtime ties timers to a request, and
 * `ref`/`unref` only where they exist) make all of them pass; see docs/runtimes.md.
 */
describe.each(['workerd', 'workerd-web-timers'] as const)('%s: the engine timers', (name) => {
  let workdir: string;
  let runtime: RunningRuntime;
  let app: ReturnType<typeof appClient>;

  beforeAll(async () => {
    workdir = await mkdtemp(join(tmpdir(), `oncely-${name}-`));
    runtime = await startRuntime(name, workdir);
    app = appClient(runtime.url);
  });

  afterEach(({ task }) => {
    if (task.result?.state === 'fail') console.error(`${name} output:\n${runtime.output()}`);
  });

  afterAll(async () => {
    await runtime?.stop();
    await rm(workdir, { recursive: true, force: true });
  });

  it('replays a keyed POST once an earlier keyed request has ended', async () => {
    for (let i = 0; i < 2; i++) {
      const key = randomUUID();
      const first = await app.pay(key);
      expect(first.status).toBe(201);
      const replay = await app.pay(key);
      expect([replay.status, replay.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
      expect(replay.bytes.equals(first.bytes)).toBe(true);
    }
  });

  it('keeps the key of a handler that runs past its lease, after other requests have ended', async () => {
    const before = await app.runs();
    const key = randomUUID();
    const held = await app.holdInFlight(key);
    try {
      await sleep(2 * LEASE_MS);
      expectInProgress(await app.pay(key, held.query), key);
    } finally {
      await held.release();
    }
    expect((await held.first).status).toBe(201);
    expect(await app.runs()).toBe(before + 1);
  });
});
