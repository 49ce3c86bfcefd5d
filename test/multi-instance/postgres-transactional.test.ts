// Transactional mode across processes, over HTTP: three Express server processes (server.ts with
// TRANSACTIONAL=1) share one PostgreSQL. kill -9 before and after the commit; the ledger (business
// rows written on the store's transaction) must hold exactly one effect per operation.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '@oncely/postgres';
import {
  DATABASE_URL,
  postgresUnavailableReason,
  uniqueTable,
} from '../../packages/postgres/src/test-support.js';
import { postOrder, postUntilSettled, startInstance } from './harness.js';
import type { Instance } from './harness.js';

const skipReason = await postgresUnavailableReason();
if (skipReason !== undefined) console.warn(`Skipping the transactional multi-instance tests: ${skipReason}.`);

const LEASE_MS = 800;

describe.skipIf(skipReason !== undefined)('server processes in transactional mode on one PostgreSQL', () => {
  const table = uniqueTable('multitx');
  const ledgerTable = `${table}_ledger`;
  let pool: pg.Pool;
  let instances: Instance[] = [];
  const effects = async (key: string) =>
    (await pool.query(`SELECT 1 FROM "${ledgerTable}" WHERE key = $1`, [key])).rowCount;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
    await migrate(pool, { table });
    await pool.query(`CREATE TABLE "${ledgerTable}" (key text NOT NULL, instance text NOT NULL)`);
    const env = {
      STORE: 'postgres',
      TRANSACTIONAL: '1',
      DATABASE_URL: DATABASE_URL!,
      TABLE: table,
      LEDGER_TABLE: ledgerTable,
      DELAY_MS: '100',
      LEASE_MS: String(LEASE_MS),
    };
    instances = await Promise.all(['a', 'b', 'c'].map((name) => startInstance(name, env)));
  }, 30_000);
  afterAll(async () => {
    await Promise.all(instances.map((i) => i.kill()));
    await pool.query(`DROP TABLE IF EXISTS "${table}", "${ledgerTable}"`);
    await pool.end();
  });

  it('runs the handler once for 30 concurrent duplicates spread over the three instances', async () => {
    const key = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => postOrder(instances[i % 3]!, key)),
    );
    const winners = answers.filter((a) => a.status === 201 && !a.replayed);
    expect(winners).toHaveLength(1);
    for (const answer of answers) {
      if (answer !== winners[0]) expect(answer.status === 409 || answer.replayed).toBe(true);
    }
    const retries = await Promise.all(answers.map((_, i) => postUntilSettled(instances[(i + 1) % 3]!, key)));
    for (const retry of retries) {
      expect(retry).toMatchObject({
        status: 201,
        replayed: true,
        body: { orderId: winners[0]!.body.orderId },
      });
    }
    expect(await effects(key)).toBe(1);
  });

  it('kill -9 after the business write, before the commit: nothing stays; a retry elsewhere takes over once', async () => {
    const key = randomUUID();
    const [victim, other, third] = [instances[0]!, instances[1]!, instances[2]!];
    await expect(postOrder(victim, key, { 'x-crash-after-effect': '1' })).rejects.toThrow();
    await victim.exited;
    // The write died with the transaction; the record stays in progress until its lease expires.
    expect(await effects(key)).toBe(0);
    expect((await postOrder(other, key)).status).toBe(409);
    // The client keeps retrying through another instance; after the lease it takes over.
    const settled = await postUntilSettled(third, key, 5000);
    expect(settled).toMatchObject({ status: 201, replayed: false, body: { instance: third.name } });
    expect(await effects(key)).toBe(1);
    const replay = await postOrder(other, key);
    expect(replay).toMatchObject({ status: 201, replayed: true, body: { orderId: settled.body.orderId } });
    expect(await effects(key)).toBe(1);
  }, 15_000);

  it('kill -9 after the commit, before the answer: a retry replays the committed result', async () => {
    const key = randomUUID();
    const [victim, survivor] = [instances[1]!, instances[2]!];
    await expect(postOrder(victim, key, { 'x-crash-after-commit': '1' })).rejects.toThrow();
    await victim.exited;
    expect(await effects(key)).toBe(1);
    const retry = await postOrder(survivor, key);
    expect(retry).toMatchObject({ status: 201, replayed: true, body: { instance: victim.name } });
    expect(await effects(key)).toBe(1);
  }, 15_000);
});
