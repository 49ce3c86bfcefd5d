import type { ClaimResult, IdempotencyRecord, RecordStatus, StoredResponse } from '@oncely/server';
import type { RecordRow } from './schema.js';

/** What a claim finds: a result to return as is, or a key it may take (`takeover` of an expired lease). */
export type ClaimDecision =
  Exclude<ClaimResult, { outcome: 'claimed' }> | { outcome: 'claim'; takeover: boolean };

function headers(text: string | null): StoredResponse['headers'] {
  if (text === null) return [];
  const parsed = JSON.parse(text) as unknown;
  return Array.isArray(parsed) ? (parsed as Array<[string, string]>) : [];
}

/** The record a row describes. Bodies are copied into plain `Uint8Array`s. */
export function toRecord(row: RecordRow): IdempotencyRecord {
  const record: IdempotencyRecord = {
    status: row.status as RecordStatus,
    fingerprint: row.fingerprint,
    fencingToken: row.fencing_token,
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

/** The claim rules of the contract, applied to the key's row (if any) at `now`. */
export function decideClaim(row: RecordRow | undefined, fingerprint: string, now: number): ClaimDecision {
  if (row === undefined || row.expires_at <= now) return { outcome: 'claim', takeover: false };
  if (row.fingerprint !== fingerprint) return { outcome: 'mismatch' };
  if (row.status === 'completed') {
    const record = toRecord(row) as IdempotencyRecord & { status: 'completed'; response: StoredResponse };
    return { outcome: 'completed', record };
  }
  if (row.lease_expires_at > now) return { outcome: 'in_progress', retryAfterMs: row.lease_expires_at - now };
  return { outcome: 'claim', takeover: true };
}

/** The bytes of a body as a Buffer for better-sqlite3, which binds Buffers as BLOBs (no copy). */
export function toBlob(body: Uint8Array | null): Buffer | null {
  return body === null ? null : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}
