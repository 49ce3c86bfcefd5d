import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '@oncely/postgres';
import {
  DATABASE_URL,
  postgresUnavailableReason,
  uniqueTable,
} from '../../packages/postgres/src/test-support.js';
import { postOrder, postUntilSettled, sleep, startInstance } from './harness.js';
import type { Instance } from './harness.js';

const skipReason = await postgresUnavailableReason();
if (skipReason !== undefined) console.warn(`Skipping the multi-instance PostgreSQL tests: ${skipReason}.`);

const TX_WORKER = fileURLToPath(new URL('./tx-worker.ts', import.meta.url));

describe.skipIf(skipReason !== undefined)('server processes sharing one PostgreSQL', () => {
  const table = uniqueTable('multi');
  const ledgerTable = `${table}_ledger`;
  let pool: pg.Pool;
  let instances: Instance[] = [];
  const effects = async (key: string) =>
    (await pool.query(`SELECT 1 FROM "${ledgerTable}" WHERE key = $1`, [key])).rowCount;

  /** Runs tx-worker.ts in its own process; resolves to its report, or `'killed'`. */
  function runWorker(key: string, mode: string): Promise<Record<string, unknown> | 'killed'> {
    const child = spawn(process.execPath, ['--conditions=@oncely/source', '--import', 'tsx', TX_WORKER], {
      env: {
        ...process.env,
        DATABASE_URL: DATABASE_URL!,
        TABLE: table,
        LEDGER_TABLE: ledgerTable,
        KEY: key,
        MODE: mode,
        LEASE_MS: '800',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    return new Promise((resolve) =>
      child.once('exit', (_code, signal) =>
        resolve(signal === 'SIGKILL' ? 'killed' : (JSON.parse(out) as Record<string, unknown>)),
      ),
    );
  }

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
    await migrate(pool, { table });
    await pool.query(`CREATE TABLE "${ledgerTable}" (key text NOT NULL, instance text NOT NULL)`);
    const env = {
      STORE: 'postgres',
      DATABASE_URL: DATABASE_URL!,
      TABLE: table,
      LEDGER_TABLE: ledgerTable,
      DELAY_MS: '300',
      LEASE_MS: '1000',
    };
    instances = await Promise.all(['a', 'b', 'c'].map((name) => startInstance(name, env)));
  }, 30_000);
  afterAll(async () => {
    await Promise.all(instances.map((i) => i.kill()));
    await pool.query(`DROP TABLE IF EXISTS "${table}", "${ledgerTable}"`);
    await pool.end();
  });

  it('runs the handler once for 100 concurrent duplicates spread over three instances', async () => {
    const key = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => postOrder(instances[i % 3]!, key)),
    );
    const winners = answers.filter((a) => a.status === 201 && !a.replayed);
    expect(winners).toHaveLength(1);
    // On a loaded machine a duplicate may arrive after the first finished: it gets the replay.
    const late = answers.filter((a) => a.status === 201 && a.replayed);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(99 - late.length);
    expect(await effects(key)).toBe(1);
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

  it('without transactional mode, repeats the effect when an instance dies between effect and answer', async () => {
    const key = randomUUID();
    const [a, b] = [instances[0]!, instances[1]!];
    await expect(postOrder(a, key, { 'x-crash-after-effect': '1' })).rejects.toThrow();
    await a.exited;
    expect(await effects(key)).toBe(1);
    expect((await postOrder(b, key)).status).toBe(409);
    await sleep(1100);
    const takeover = await postOrder(b, key);
    expect(takeover).toMatchObject({ status: 201, replayed: false });
    expect(await effects(key)).toBe(2); // the documented gap that transactional mode closes
  });

  it('with transactional mode, a kill -9 before the commit leaves nothing, and the takeover applies it once', async () => {
    const key = randomUUID();
    expect(await runWorker(key, 'crash-before-commit')).toBe('killed');
    expect(await effects(key)).toBe(0);
    expect(await runWorker(key, 'normal')).toMatchObject({ claim: 'in_progress' }); // lease still held
    await sleep(900);
    expect(await runWorker(key, 'normal')).toMatchObject({
      claim: 'claimed',
      takeover: true,
      outcome: 'completed',
    });
    expect(await effects(key)).toBe(1);
    expect(await runWorker(key, 'normal')).toMatchObject({ claim: 'completed' });
    expect(await effects(key)).toBe(1);
  }, 20_000);

  it('with transactional mode, a kill -9 after the commit leaves both, and a retry replays', async () => {
    const key = randomUUID();
    expect(await runWorker(key, 'crash-after-commit')).toBe('killed');
    expect(await effects(key)).toBe(1);
    expect(await runWorker(key, 'normal')).toMatchObject({ claim: 'completed' });
    expect(await effects(key)).toBe(1);
  }, 20_000);
});
