import { invalidOptionError } from '@oncely/core';
import type { Cluster, Redis } from 'ioredis';

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /**
   * The ioredis client (or `Cluster`) to use. The store never connects, quits or reconfigures it;
   * reconnection and retries are ioredis's. It only defines its Lua commands on it.
   */
  client: Redis | Cluster;
  /**
   * Prefix of every key. A record lives at `{<prefix>:<key>}`; the braces are a hash tag, so all of a
   * record's keys land in one Redis Cluster slot. Must not contain `{` or `}`.
   * @default 'oncely'
   */
  prefix?: string | undefined;
  /**
   * Longest wait for one Redis command, in ms, before the store throws `ERR_ONCELY_STORE_TIMEOUT`
   * (the engine answers 503). Without it a command sits in ioredis's offline queue while Redis is
   * down. `0` disables the store's own timeout.
   * @default 2000
   */
  commandTimeoutMs?: number | undefined;
}

/** {@link RedisStoreOptions} with every default applied. */
export interface ResolvedRedisStoreOptions {
  client: Redis | Cluster;
  prefix: string;
  commandTimeoutMs: number;
}

/** Applies defaults and validates; throws `ERR_ONCELY_INVALID_OPTION` naming the option. */
export function normalizeRedisStoreOptions(options: RedisStoreOptions): ResolvedRedisStoreOptions {
  const { client, prefix = 'oncely', commandTimeoutMs = 2000 } = options ?? {};
  if (typeof client !== 'object' || client === null || typeof client.defineCommand !== 'function') {
    throw invalidOptionError('client', client, 'an ioredis Redis or Cluster instance');
  }
  if (typeof prefix !== 'string' || prefix.length === 0 || /[{}]/.test(prefix)) {
    throw invalidOptionError('prefix', prefix, 'a non-empty string without `{` or `}`');
  }
  if (typeof commandTimeoutMs !== 'number' || !Number.isFinite(commandTimeoutMs) || commandTimeoutMs < 0) {
    throw invalidOptionError('commandTimeoutMs', commandTimeoutMs, 'a finite number of ms >= 0');
  }
  return { client, prefix, commandTimeoutMs };
}
