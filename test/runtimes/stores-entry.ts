import { Redis } from 'ioredis';
import pg from 'pg';
import { PostgresStore, migrate } from '@oncely/postgres';
import { RedisStore } from '@oncely/redis';
import type { IdempotencyStore } from '@oncely/server';
import { withIdempotency } from '@oncely/server/fetch';

/**
 * Run by stores.test.ts inside Bun and Deno: the fetch adapter on the RedisStore (ioredis) and the
 * PostgresStore (pg), each asked twice with one key. Prints one JSON line of what it saw.
 */
declare const process: { env: Record<string, string | undefined> };
const { REDIS_URL, DATABASE_URL, ONCELY_PROBE_ID = 'probe' } = process.env;

async function twice(store: IdempotencyStore) {
  let runs = 0;
  const handler = withIdempotency(
    async (request: Request) => new Response(`run ${++runs}: ${await request.text()}`, { status: 201 }),
    { store, scope: () => ONCELY_PROBE_ID },
  );
  const request = () =>
    new Request('http://127.0.0.1/pay', {
      method: 'POST',
      headers: { 'idempotency-key': `key-${ONCELY_PROBE_ID}` },
      body: '{"amount":1}',
    });
  const answers = [];
  for (const response of [await handler(request()), await handler(request())]) {
    answers.push([response.status, await response.text(), response.headers.get('idempotent-replayed')]);
  }
  return { answers, runs };
}

const redis = new Redis(REDIS_URL!);
const pool = new pg.Pool({ connectionString: DATABASE_URL });
const table = `oncely_${ONCELY_PROBE_ID.replace(/\W/g, '_')}`;
try {
  const onRedis = await twice(new RedisStore({ client: redis, prefix: `oncely-${ONCELY_PROBE_ID}` }));
  await migrate(pool, { table });
  const onPostgres = await twice(new PostgresStore({ pool, table }));
  console.log(JSON.stringify({ redis: onRedis, postgres: onPostgres }));
} finally {
  await pool.query(`drop table if exists ${table}`).catch(() => undefined);
  await pool.end();
  redis.disconnect();
}
