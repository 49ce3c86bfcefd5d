import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LEASE_MS } from './app.js';
import type { ClientResult } from './app.js';
import { appClient, expectInProgress, sleep } from './app-client.js';
import { startFlakyServer } from './flaky-server.js';
import { startRuntime } from './launch.js';
import type { RunningRuntime } from './launch.js';

/** How each runtime's fetch reports a connection closed without an answer, as the client classifies it. */
const droppedReason = {
  bun: 'network ECONNRESET',
  // A TypeError without a code, as the Fetch standard says.
  deno: 'network error',
  // A plain Error marked `retryable: true`.
  workerd: 'network error',
};

/**
 * The fetch adapter (`withIdempotency` from '@oncely/server/fetch', MemoryStore) and
 * @oncely/client's createFetch, each running inside Bun, Deno and workerd (from their npm packages),
 * bundled from the workspace sources. Driven from Node over real sockets on 127.0.0.1.
 */
describe.each(['bun', 'deno', 'workerd'] as const)('%s', (name) => {
  let workdir: string;
  let runtime: RunningRuntime;
  let app: ReturnType<typeof appClient>;

  beforeAll(async () => {
    workdir = await mkdtemp(join(tmpdir(), `oncely-${name}-`));
    runtime = await startRuntime(name, workdir);
    app = appClient(runtime.url);
  });

  // What the runtime logged is the first thing to read when one of its tests fails.
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') console.error(`${name} output:\n${runtime.output()}`);
  });

  afterAll(async () => {
    await runtime?.stop();
    await rm(workdir, { recursive: true, force: true });
  });

  it('replays a keyed POST byte for byte with Idempotent-Replayed, without running the handler again', async () => {
    const before = await app.runs();
    const key = randomUUID();
    const first = await app.pay(key);
    expect(first.status).toBe(201);
    expect(JSON.parse(first.bytes.toString('utf8'))).toEqual({
      run: before + 1,
      body: '{"amount":100}',
      note: 'héllo €',
    });
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const replay = await app.pay(key);
    expect(replay.status).toBe(201);
    expect(replay.bytes.equals(first.bytes)).toBe(true);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(replay.headers.get('location')).toBe(`/payments/${before + 1}`);
    expect(await app.runs()).toBe(before + 1);
  });

  it('answers a duplicate of a request still in flight with 409, and runs the handler once', async () => {
    const before = await app.runs();
    const key = randomUUID();
    const held = await app.holdInFlight(key);
    try {
      expectInProgress(await app.pay(key, held.query), key);
    } finally {
      await held.release();
    }
    const first = await held.first;
    expect(first.status).toBe(201);
    const replay = await app.pay(key, held.query);
    expect([replay.status, replay.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
    expect(replay.bytes.equals(first.bytes)).toBe(true);
    expect(await app.runs()).toBe(before + 1);
  });

  // workerd: in workerd-timers.test.ts, where it fails today (the engine's shared timers).
  it.runIf(name !== 'workerd')(
    'keeps the key of a handler that runs past its lease (the heartbeat extends it)',
    async () => {
      const before = await app.runs();
      const key = randomUUID();
      const held = await app.holdInFlight(key);
      try {
        // Two leases: without a heartbeat the record would have expired and the duplicate taken over.
        await sleep(2 * LEASE_MS);
        expectInProgress(await app.pay(key, held.query), key);
      } finally {
        await held.release();
      }
      expect((await held.first).status).toBe(201);
      expect(await app.runs()).toBe(before + 1);
    },
  );

  it("keeps one key through a 503 and a dropped answer with the client's createFetch inside the runtime", async () => {
    const server = await startFlakyServer();
    try {
      const answer = await fetch(`${runtime.url}/client`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: `${server.url}/orders`, body: '{"sku":"a-1"}' }),
      });
      const result = (await answer.json()) as ClientResult;
      const key = result.idempotencyKey;
      expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(result).toEqual({
        status: 201,
        body: JSON.stringify({ run: 1, body: '{"sku":"a-1"}' }),
        replayed: 'true',
        idempotencyKey: key,
        attempts: 3,
        reasons: ['status 503', droppedReason[name]],
      });
      expect(server.keys).toEqual([key, key, key]);
      expect(server.runs()).toBe(1);
    } finally {
      await server.close();
    }
  });
});
