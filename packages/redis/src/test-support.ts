import { Redis } from 'ioredis';

/** Where the tests find Redis: `REDIS_URL`, or the local default on a developer machine. */
export const REDIS_URL =
  process.env.REDIS_URL ?? (process.env.CI === 'true' ? undefined : 'redis://127.0.0.1:6379');

/**
 * Resolves to why the Redis tests must be skipped, or `undefined` when Redis answers. On CI
 * (`CI=true`) an unreachable Redis is a failure, never a skip: it throws.
 */
export async function redisUnavailableReason(): Promise<string | undefined> {
  const onCi = process.env.CI === 'true';
  if (REDIS_URL === undefined) {
    if (onCi) throw new Error('REDIS_URL is not set on CI: the Redis tests need a real Redis.');
    return 'REDIS_URL is not set';
  }
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    return undefined;
  } catch (error) {
    const reason = `Redis at ${REDIS_URL} is unreachable (${error instanceof Error ? error.message : String(error)})`;
    if (onCi) throw new Error(`${reason}; on CI the Redis tests must not be skipped.`);
    return reason;
  } finally {
    probe.disconnect();
  }
}

/** A unique prefix per test run, so parallel runs never share keys. */
export function uniquePrefix(name: string): string {
  return `oncely-test:${name}:${process.pid}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}`;
}

/** Deletes every key under `prefix` (they look like `{prefix:…}`). */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `{${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}
