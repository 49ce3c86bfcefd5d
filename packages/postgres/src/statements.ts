import type { ResolvedTableOptions } from './options.js';

/** `"schema"."table"`; names are validated identifiers, quoted so case is kept. */
export function qualifiedName({ schema, table }: ResolvedTableOptions): string {
  return `"${schema}"."${table}"`;
}

const ms = (column: string) => `floor(extract(epoch FROM ${column}) * 1000)::float8`;

/** Columns every statement returns, in the shape {@link RecordRow} reads. */
const RECORD_COLUMNS = `status, fingerprint, fencing_token::text AS fencing_token, attempt,
  ${ms('lease_expires_at')} AS lease_expires_at, ${ms('expires_at')} AS expires_at,
  response_status, response_headers, response_body`;

/** A row as the statements return it (pg parses jsonb and bytea; bigint comes as text). */
export interface RecordRow {
  claimed?: boolean;
  now?: number;
  status: string;
  fingerprint: string;
  fencing_token: string;
  attempt: number;
  lease_expires_at: number;
  expires_at: number;
  response_status: number | null;
  response_headers: unknown;
  response_body: Buffer | null;
}

/** The SQL of every store operation, built once per store. `$n` parameters are listed per statement. */
export interface Statements {
  /** $1 key, $2 fingerprint, $3 lease ms, $4 ttl ms. */
  claim: string;
  /** $1 key, $2 token, $3 status, $4 headers json, $5 body. */
  complete: string;
  /** $1 key, $2 token. */
  release: string;
  /** $1 key, $2 token, $3 lease ms. */
  extend: string;
  /** $1 key. */
  get: string;
  /** $1 key; returns `live` per deleted row. */
  delete: string;
  /** $1 batch size. */
  reap: string;
}

/** Builds the statements for one table. */
export function buildStatements(options: ResolvedTableOptions): Statements {
  const t = qualifiedName(options);
  const lease = `now() + $3::float8 * interval '1 millisecond'`;
  const live = `key = $1 AND fencing_token = $2::bigint AND status = 'in_progress' AND expires_at > now()`;
  return {
    // One statement, one round trip: insert, or take over an expired record (TTL) or an expired lease
    // of the same fingerprint; when the upsert changes nothing, the second branch returns the record
    // that blocked it. A row committed after this statement's snapshot is invisible to that branch,
    // so the caller retries on an empty result (READ COMMITTED; see the store's claim()).
    claim: `WITH claimed AS (
  INSERT INTO ${t} AS r (key, status, fingerprint, lease_expires_at, expires_at)
  VALUES ($1, 'in_progress', $2, now() + $3::float8 * interval '1 millisecond',
          now() + $4::float8 * interval '1 millisecond')
  ON CONFLICT (key) DO UPDATE SET
    status = 'in_progress', fingerprint = EXCLUDED.fingerprint, fencing_token = EXCLUDED.fencing_token,
    attempt = CASE WHEN r.expires_at <= now() THEN 1 ELSE r.attempt + 1 END,
    lease_expires_at = EXCLUDED.lease_expires_at, expires_at = EXCLUDED.expires_at,
    claimed_at = now(), completed_at = NULL,
    response_status = NULL, response_headers = NULL, response_body = NULL
  WHERE r.expires_at <= now()
     OR (r.status = 'in_progress' AND r.lease_expires_at <= now() AND r.fingerprint = EXCLUDED.fingerprint)
  RETURNING ${RECORD_COLUMNS}
)
SELECT true AS claimed, ${ms('now()')} AS now, * FROM claimed
UNION ALL
SELECT false, ${ms('now()')}, ${RECORD_COLUMNS} FROM ${t}
WHERE key = $1 AND NOT EXISTS (SELECT 1 FROM claimed)`,
    complete: `UPDATE ${t} SET status = 'completed', completed_at = now(),
  response_status = $3, response_headers = $4::jsonb, response_body = $5
WHERE ${live}`,
    release: `DELETE FROM ${t} WHERE ${live}`,
    // A long handler never loses its record to the TTL mid-run: expiry is pushed to the lease if needed.
    extend: `UPDATE ${t} SET lease_expires_at = ${lease}, expires_at = greatest(expires_at, ${lease})
WHERE ${live}`,
    get: `SELECT ${RECORD_COLUMNS} FROM ${t} WHERE key = $1 AND expires_at > now()`,
    // Whatever its state or token; an expired row goes too, but does not count as a record.
    delete: `DELETE FROM ${t} WHERE key = $1 RETURNING expires_at > now() AS live`,
    // Short batches keep locks short; SKIP LOCKED lets several reapers (one per instance) share work.
    reap: `DELETE FROM ${t} WHERE key IN (
  SELECT key FROM ${t} WHERE expires_at <= now() ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED
) AND expires_at <= now()`,
  };
}
