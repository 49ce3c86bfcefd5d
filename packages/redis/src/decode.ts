import type { ClaimResult, IdempotencyRecord, StoredResponse } from '@oncely/server';
import { RedisStoreError, RedisStoreErrorCode } from './errors.js';

/** One element of a RESP reply read with ioredis's `…Buffer` commands. */
export type ReplyValue = Buffer | number | null | ReplyValue[];

function corrupt(operation: string, what: string): RedisStoreError {
  return new RedisStoreError(
    RedisStoreErrorCode.corrupt,
    operation,
    `RedisStore ${operation}: unexpected reply from Redis (${what}).`,
  );
}

function text(value: ReplyValue | undefined): string | undefined {
  return Buffer.isBuffer(value) ? value.toString('utf8') : undefined;
}

function integer(value: ReplyValue | undefined, operation: string, what: string): number {
  const n = typeof value === 'number' ? value : Number(text(value));
  if (!Number.isSafeInteger(n)) throw corrupt(operation, `${what} is not an integer`);
  return n;
}

/** A fresh, plain `Uint8Array` copy: callers get bytes that no pooled Buffer can overwrite. */
function bytes(value: ReplyValue | undefined): Uint8Array | null {
  return Buffer.isBuffer(value) ? new Uint8Array(value) : null;
}

function headers(value: ReplyValue | undefined, operation: string): StoredResponse['headers'] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text(value) ?? '');
  } catch {
    throw corrupt(operation, 'response headers are not JSON');
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.every(
      (pair) =>
        Array.isArray(pair) &&
        pair.length === 2 &&
        typeof pair[0] === 'string' &&
        typeof pair[1] === 'string',
    );
  if (!valid) throw corrupt(operation, 'response headers are not [name, value] pairs');
  return parsed as Array<[string, string]>;
}

/** Serializes headers for the `rh` field. */
export function encodeHeaders(value: StoredResponse['headers']): string {
  return JSON.stringify(value);
}

/** Reads the reply of the claim script. */
export function decodeClaimReply(reply: unknown, fingerprint: string): ClaimResult {
  if (!Array.isArray(reply)) throw corrupt('claim', 'not an array');
  const items = reply as ReplyValue[];
  const outcome = text(items[0]);
  switch (outcome) {
    case 'claimed':
      return {
        outcome,
        fencingToken: integer(items[1], 'claim', 'fencing token'),
        takeover: items[2] === 1,
      };
    case 'in_progress':
      return { outcome, retryAfterMs: Math.max(0, integer(items[1], 'claim', 'lease left')) };
    case 'mismatch':
      return { outcome };
    case 'completed': {
      const response: StoredResponse = {
        status: integer(items[4], 'claim', 'response status'),
        headers: headers(items[5], 'claim'),
        body: bytes(items[6]),
      };
      return {
        outcome,
        record: {
          status: 'completed',
          fingerprint,
          fencingToken: integer(items[1], 'claim', 'fencing token'),
          leaseExpiresAt: integer(items[2], 'claim', 'lease expiry'),
          expiresAt: integer(items[3], 'claim', 'expiry'),
          response,
        },
      };
    }
    default:
      throw corrupt('claim', `unknown outcome ${JSON.stringify(outcome)}`);
  }
}

/** Reads an `HGETALL` of a record hash; `undefined` for a missing (or expired) record. */
export function decodeRecord(fields: Record<string, Buffer>): IdempotencyRecord | undefined {
  const status = fields.s?.toString('utf8');
  if (status === undefined) return undefined;
  if (status !== 'in_progress' && status !== 'completed') throw corrupt('get', `unknown status ${status}`);
  const record: IdempotencyRecord = {
    status,
    fingerprint: text(fields.f) ?? '',
    fencingToken: integer(fields.t, 'get', 'fencing token'),
    leaseExpiresAt: integer(fields.l, 'get', 'lease expiry'),
    expiresAt: integer(fields.e, 'get', 'expiry'),
  };
  if (status === 'completed') {
    record.response = {
      status: integer(fields.rs, 'get', 'response status'),
      headers: headers(fields.rh, 'get'),
      body: bytes(fields.b),
    };
  }
  return record;
}
