import type {
  ClaimRequest,
  ClaimResult,
  IdempotencyRecord,
  IdempotencyStore,
  StoredResponse,
} from '@oncely/server';
import type { Cluster, Redis } from 'ioredis';
import { decodeClaimReply, decodeRecord, encodeHeaders } from './decode.js';
import { RedisStoreError, RedisStoreErrorCode, isRedisStoreError } from './errors.js';
import { normalizeRedisStoreOptions } from './options.js';
import type { RedisStoreOptions } from './options.js';
import { CLAIM_SCRIPT, COMPLETE_SCRIPT, EXTEND_SCRIPT, RELEASE_SCRIPT } from './scripts.js';

type Arg = string | number | Buffer;

/** The commands {@link RedisStore} defines on the client (EVALSHA, falling back to EVAL on NOSCRIPT). */
interface ScriptCommands {
  oncelyClaimV1Buffer(key: string, ...args: Arg[]): Promise<unknown>;
  oncelyCompleteV1(key: string, ...args: Arg[]): Promise<unknown>;
  oncelyReleaseV1(key: string, ...args: Arg[]): Promise<unknown>;
  oncelyExtendV1(key: string, ...args: Arg[]): Promise<unknown>;
}

function defineScripts(client: Redis | Cluster): ScriptCommands {
  // Re-defining on a client shared by several stores is harmless: the scripts are identical.
  client.defineCommand('oncelyClaimV1', { numberOfKeys: 1, lua: CLAIM_SCRIPT });
  client.defineCommand('oncelyCompleteV1', { numberOfKeys: 1, lua: COMPLETE_SCRIPT });
  client.defineCommand('oncelyReleaseV1', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
  client.defineCommand('oncelyExtendV1', { numberOfKeys: 1, lua: EXTEND_SCRIPT });
  return client as unknown as ScriptCommands;
}

function milliseconds(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`RedisStore: \`${name}\` must be a positive number of ms, got ${String(value)}.`);
  }
  return Math.ceil(value);
}

/**
 * An {@link IdempotencyStore} on Redis, for many server instances sharing one record per key.
 *
 * - One round trip per call: claim, complete, release and extend are Lua scripts (EVALSHA), atomic on
 *   the server; a claim of a completed key returns the whole record, so a replay costs one round trip.
 * - Fencing tokens are checked inside the scripts; the Redis clock (`TIME`) decides lease expiry and
 *   the record expires by `PEXPIRE`.
 * - Each record is one hash at `{<prefix>:<key>}` (hash-tagged): safe on Redis Cluster.
 * - When Redis is down or slow every method throws a {@link RedisStoreError}; the engine answers 503.
 */
export class RedisStore implements IdempotencyStore {
  readonly #client: Redis | Cluster;
  readonly #commands: ScriptCommands;
  readonly #prefix: string;
  readonly #timeoutMs: number;

  constructor(options: RedisStoreOptions) {
    const resolved = normalizeRedisStoreOptions(options);
    this.#client = resolved.client;
    this.#prefix = resolved.prefix;
    this.#timeoutMs = resolved.commandTimeoutMs;
    this.#commands = defineScripts(this.#client);
  }

  /** The Redis key of a record: `{<prefix>:<key>}`. */
  redisKey(key: string): string {
    if (typeof key !== 'string' || key.length === 0) {
      throw new TypeError(`RedisStore: a store key must be a non-empty string, got ${String(key)}.`);
    }
    return `{${this.#prefix}:${key}}`;
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const { key, fingerprint } = request;
    const leaseMs = milliseconds(request.leaseMs, 'leaseMs');
    const ttlMs = milliseconds(request.ttlMs, 'ttlMs');
    const reply = await this.#run('claim', () =>
      this.#commands.oncelyClaimV1Buffer(this.redisKey(key), fingerprint, leaseMs, ttlMs),
    );
    return decodeClaimReply(reply, fingerprint);
  }

  async complete(key: string, fencingToken: number, response: StoredResponse): Promise<boolean> {
    const { body } = response;
    const bodyArg = body === null ? '' : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const reply = await this.#run('complete', () =>
      this.#commands.oncelyCompleteV1(
        this.redisKey(key),
        String(fencingToken),
        String(response.status),
        encodeHeaders(response.headers),
        body === null ? '0' : '1',
        bodyArg,
      ),
    );
    return reply === 1;
  }

  async release(key: string, fencingToken: number): Promise<boolean> {
    const reply = await this.#run('release', () =>
      this.#commands.oncelyReleaseV1(this.redisKey(key), String(fencingToken)),
    );
    return reply === 1;
  }

  async extend(key: string, fencingToken: number, leaseMs: number): Promise<boolean> {
    const ms = milliseconds(leaseMs, 'leaseMs');
    const reply = await this.#run('extend', () =>
      this.#commands.oncelyExtendV1(this.redisKey(key), String(fencingToken), ms),
    );
    return reply === 1;
  }

  async get(key: string): Promise<IdempotencyRecord | undefined> {
    const fields = await this.#run('get', () => this.#client.hgetallBuffer(this.redisKey(key)));
    return decodeRecord(fields);
  }

  async delete(key: string): Promise<boolean> {
    // Redis expires the hash itself at its TTL, so DEL counts only a live record.
    return (await this.#run('delete', () => this.#client.del(this.redisKey(key)))) === 1;
  }

  /** Runs one command with the store's timeout, turning every failure into a {@link RedisStoreError}. */
  async #run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const pending = command();
      if (this.#timeoutMs === 0) return await pending;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(
            new RedisStoreError(
              RedisStoreErrorCode.timeout,
              operation,
              `RedisStore ${operation}: Redis did not answer within ${this.#timeoutMs} ms.`,
            ),
          );
        }, this.#timeoutMs);
      });
      // A late reply is dropped; a late rejection must not become an unhandled one.
      pending.catch(() => undefined);
      return await Promise.race([pending, timeout]);
    } catch (error) {
      if (isRedisStoreError(error) || error instanceof TypeError || error instanceof RangeError) throw error;
      throw new RedisStoreError(
        RedisStoreErrorCode.unavailable,
        operation,
        `RedisStore ${operation} failed: ${error instanceof Error ? error.message : String(error)}`,
        error,
      );
    } finally {
      clearTimeout(timer);
    }
  }
}
