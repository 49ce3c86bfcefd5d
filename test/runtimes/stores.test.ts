import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from './launch.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * The RedisStore (ioredis) and the PostgresStore (pg) behind the fetch adapter, inside Bun and Deno,
 * against the real Redis and PostgreSQL: a keyed request runs once and its retry is the replay.
 * (workerd has no TCP client for these drivers; see docs/runtimes.md.)
 */
describe.each(['bun', 'deno'] as const)('%s with the Redis and PostgreSQL stores', (name) => {
  let workdir: string;
  beforeAll(async () => {
    workdir = await mkdtemp(join(tmpdir(), `oncely-stores-${name}-`));
  });
  afterAll(async () => {
    await rm(workdir, { recursive: true, force: true });
  });

  it('runs a keyed request once and replays it', async () => {
    const id = `${name}_${randomUUID().slice(0, 8)}`;
    const output = await runScript(name, 'stores', workdir, {
      REDIS_URL,
      DATABASE_URL,
      ONCELY_PROBE_ID: id,
    });
    const once = {
      answers: [
        [201, 'run 1: {"amount":1}', null],
        [201, 'run 1: {"amount":1}', 'true'],
      ],
      runs: 1,
    };
    expect(JSON.parse(output)).toEqual({ redis: once, postgres: once });
  });
});
