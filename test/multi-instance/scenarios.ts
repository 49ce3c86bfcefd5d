// The multi-instance scenarios, one set for every store: three server processes (node:cluster, one
// shared port) on one shared store. Waits are derived from the lease, never fixed sleeps: a loaded
// machine only makes them take longer.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FixtureSetup, StoreFixture } from './fixtures.js';
import { postOrder, postUntilSettled, sleep, startCluster } from './harness.js';
import type { Answer, Cluster } from './harness.js';

/** Long enough that a request round trip fits many times in it even under load; short to keep tests fast. */
const LEASE_MS = 1500;
/** The handler's own time, so concurrent duplicates overlap with it. */
const DELAY_MS = 300;

export function runMultiInstanceScenarios(title: string, setup: FixtureSetup): void {
  if ('skip' in setup) console.warn(`Skipping the multi-instance tests on ${title}: ${setup.skip}.`);

  describe.skipIf('skip' in setup)(`three server processes (node:cluster) sharing ${title}`, () => {
    let fixture: StoreFixture;
    let cluster: Cluster;
    const start = () =>
      startCluster({ ...fixture.env, DELAY_MS: String(DELAY_MS), LEASE_MS: String(LEASE_MS) });

    beforeAll(async () => {
      if ('skip' in setup) return;
      fixture = await setup.create();
      cluster = await start();
      // Open the workers' store connections first (distinct keys): a cold pool's connection set-up,
      // under 100 concurrent claims on a loaded machine, could outlast the store timeout and turn a
      // 409 into a 503 (nothing ran, but not what the first scenario checks).
      await Promise.all(Array.from({ length: 30 }, () => postOrder(cluster.port, randomUUID())));
    }, 90_000);
    afterAll(async () => {
      await cluster?.stop();
      await fixture?.close();
    });

    /** Waits, at most a few leases, until the store holds `key` completed (completion may follow the answer). */
    async function completed(key: string): Promise<void> {
      const deadline = Date.now() + LEASE_MS * 4;
      while ((await fixture.record(key))?.status !== 'completed' && Date.now() < deadline) {
        await sleep(LEASE_MS / 30);
      }
      expect((await fixture.record(key))?.status).toBe('completed');
    }

    it('runs the handler once for 100 concurrent duplicates spread over the three processes', async () => {
      const key = randomUUID();
      const answers = await Promise.all(Array.from({ length: 100 }, () => postOrder(cluster.port, key)));
      const winners = answers.filter((a) => a.status === 201 && !a.replayed);
      expect(winners).toHaveLength(1);
      // The others were refused while it ran, or (on a loaded machine, arriving late) got its replay.
      for (const answer of answers) {
        if (answer !== winners[0]) {
          expect(answer.status === 409 || answer.replayed, JSON.stringify(answer)).toBe(true);
        }
      }
      expect(new Set(answers.map((a) => a.worker))).toEqual(new Set(cluster.workers));
      expect(await fixture.effects(key)).toBe(1);

      await completed(key);
      const retries = await Promise.all(answers.map(() => postOrder(cluster.port, key)));
      for (const retry of retries) {
        expect(retry).toMatchObject({
          status: 201,
          replayed: true,
          body: { orderId: winners[0]!.body.orderId },
        });
      }
      expect(await fixture.effects(key)).toBe(1);
    });

    it('kill -9 of the worker holding the claim: the key stays held for its lease, then one retry takes over', async () => {
      const key = randomUUID();
      await expect(postOrder(cluster.port, key, { 'x-crash-after-effect': '1' })).rejects.toThrow();
      const victim = await cluster.nextExit();
      // Without transactional mode the effect happened and stays; with it, it died with the transaction.
      expect(await fixture.effects(key)).toBe(setup.transactional ? 0 : 1);
      const held = await fixture.record(key);
      expect(held).toMatchObject({ status: 'in_progress' });

      const answers = await postUntilSettled(cluster.port, key, {
        timeoutMs: LEASE_MS * 4,
        pauseMs: LEASE_MS / 10,
      });
      const takeover = answers.at(-1)!;
      expect(takeover).toMatchObject({ status: 201, replayed: false });
      expect(takeover.worker).not.toBe(victim);
      // The bound: no retry ran before the dead worker's lease ended (the store's clock is this host's).
      expect(takeover.receivedAt).toBeGreaterThanOrEqual(held!.leaseExpiresAt);
      expect(answers.slice(0, -1).every((a: Answer) => a.status === 409)).toBe(true);
      // Documented (docs/failure-model.md): without transactional mode the effect is applied a second
      // time; with it, exactly once.
      expect(await fixture.effects(key)).toBe(setup.transactional ? 1 : 2);

      await completed(key);
      const replay = await postOrder(cluster.port, key);
      expect(replay).toMatchObject({ status: 201, replayed: true, body: { orderId: takeover.body.orderId } });
      expect(await fixture.effects(key)).toBe(setup.transactional ? 1 : 2);
    });

    // Outside transactional mode there is no commit to crash after.
    if (setup.transactional) {
      it('kill -9 right after the commit, before the answer: a retry replays the committed result', async () => {
        const key = randomUUID();
        await expect(postOrder(cluster.port, key, { 'x-crash-after-commit': '1' })).rejects.toThrow();
        const victim = await cluster.nextExit();
        expect(await fixture.effects(key)).toBe(1);
        const retry = await postOrder(cluster.port, key);
        expect(retry).toMatchObject({ status: 201, replayed: true, body: { instance: String(victim) } });
        expect(await fixture.effects(key)).toBe(1);
      });
    }

    it('a restart of every process between a request and its retry: the retry is replayed, not run again', async () => {
      const key = randomUUID();
      const first = await postOrder(cluster.port, key);
      expect(first).toMatchObject({ status: 201, replayed: false });
      await completed(key);
      await cluster.stop();
      cluster = await start();
      const retry = await postOrder(cluster.port, key);
      expect(retry).toMatchObject({ status: 201, replayed: true, body: { orderId: first.body.orderId } });
      expect(await fixture.effects(key)).toBe(1);
    }, 90_000);
  });
}
