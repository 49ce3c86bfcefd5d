import type { ClaimResult, IdempotencyRecord, RecordStatus, StoredResponse } from '@oncely/server';
import type { RecordRow } from './statements.js';

function headers(value: unknown): StoredResponse['headers'] {
  return Array.isArray(value) ? (value as Array<[string, string]>) : [];
}

/** The record a row describes. Bodies are copied into plain `Uint8Array`s. */
export function toRecord(row: RecordRow): IdempotencyRecord {
  const record: IdempotencyRecord = {
    status: row.status as RecordStatus,
    fingerprint: row.fingerprint,
    fencingToken: Number(row.fencing_token),
    leaseExpiresAt: row.lease_expires_at,
    expiresAt: row.expires_at,
  };
  if (row.status === 'completed') {
    record.response = {
      status: row.response_status ?? 0,
      headers: headers(row.response_headers),
      body: row.response_body === null ? null : new Uint8Array(row.response_body),
    };
  }
  return record;
}

/**
 * Reads the claim statement's row. `undefined` means the row is from a stale snapshot (a concurrent
 * claim committed after the statement began): the caller runs the statement again.
 */
export function toClaimResult(row: RecordRow | undefined, fingerprint: string): ClaimResult | undefined {
  if (row === undefined) return undefined;
  if (row.claimed === true) {
    return { outcome: 'claimed', fencingToken: Number(row.fencing_token), takeover: row.attempt > 1 };
  }
  const now = row.now ?? 0;
  if (row.expires_at <= now) return undefined;
  if (row.fingerprint !== fingerprint) return { outcome: 'mismatch' };
  if (row.status === 'completed') {
    const record = toRecord(row) as IdempotencyRecord & { status: 'completed'; response: StoredResponse };
    return { outcome: 'completed', record };
  }
  const left = row.lease_expires_at - now;
  return left > 0 ? { outcome: 'in_progress', retryAfterMs: left } : undefined;
}

/** The bytes of a body as a Buffer for pg (no copy). */
export function toBytea(body: Uint8Array | null): Buffer | null {
  return body === null ? null : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}
