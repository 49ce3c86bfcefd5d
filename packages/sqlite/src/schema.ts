/**
 * The table and the SQL of every store operation. Times are epoch ms of the host's clock, passed in as
 * parameters: every process on one host shares that clock (the store's clock, in contract terms).
 */

/** The DDL, idempotent (`IF NOT EXISTS`): run on first use by every process, in any order. */
export function schemaSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS "${table}" (
  -- AUTOINCREMENT never reuses a value, even after deletes: every claim and takeover inserts a row,
  -- so its id is a fencing token that only grows.
  fencing_token    INTEGER PRIMARY KEY AUTOINCREMENT,
  "key"            TEXT NOT NULL UNIQUE,
  status           TEXT NOT NULL CHECK (status IN ('in_progress', 'completed')),
  fingerprint      TEXT NOT NULL,
  lease_ms         INTEGER NOT NULL,
  lease_expires_at INTEGER NOT NULL,
  expires_at       INTEGER NOT NULL,
  response_status  INTEGER,
  response_headers TEXT,
  response_body    BLOB
);
CREATE INDEX IF NOT EXISTS "${table}_expires_at" ON "${table}" (expires_at);`;
}

/** A row as better-sqlite3 returns it. */
export interface RecordRow {
  fencing_token: number;
  status: string;
  fingerprint: string;
  lease_expires_at: number;
  expires_at: number;
  response_status: number | null;
  response_headers: string | null;
  response_body: Buffer | null;
}

/** The SQL of every operation on one table. Parameters are named; `@now` is always the current time. */
export interface StatementSql {
  /** @key */
  select: string;
  /** @key @fingerprint @leaseMs @leaseExpiresAt @expiresAt; the new row's id is the fencing token. */
  insert: string;
  /** @now @limit */
  cleanup: string;
  /** @key @token @now @status @headers @body */
  complete: string;
  /** @key @token @now */
  release: string;
  /** @key @token @now @leaseMs; returns lease_expires_at. */
  extend: string;
  /** @key @token @now; gives the record a full lease from now, returns lease_expires_at. */
  startLease: string;
  /** @key; returns expires_at of what was deleted. */
  delete: string;
}

const COLUMNS = `fencing_token, status, fingerprint, lease_expires_at, expires_at,
  response_status, response_headers, response_body`;

/** The statements for one table (a validated identifier). */
export function statementSql(table: string): StatementSql {
  const t = `"${table}"`;
  const current = `fencing_token = @token AND "key" = @key AND status = 'in_progress' AND expires_at > @now`;
  return {
    select: `SELECT ${COLUMNS} FROM ${t} WHERE "key" = @key`,
    // REPLACE deletes the key's old row (expired, released-and-reclaimed or taken over) and inserts a new
    // one, whose AUTOINCREMENT id is the new, larger fencing token.
    insert: `INSERT OR REPLACE INTO ${t} ("key", status, fingerprint, lease_ms, lease_expires_at, expires_at)
VALUES (@key, 'in_progress', @fingerprint, @leaseMs, @leaseExpiresAt, @expiresAt)`,
    // Oldest first, through the expires_at index: each claim that writes removes a few expired records,
    // so the table never holds more than a bounded number of them and no reaper is needed.
    cleanup: `DELETE FROM ${t} WHERE fencing_token IN (
  SELECT fencing_token FROM ${t} WHERE expires_at <= @now ORDER BY expires_at LIMIT @limit)`,
    complete: `UPDATE ${t} SET status = 'completed',
  response_status = @status, response_headers = @headers, response_body = @body
WHERE ${current}`,
    release: `DELETE FROM ${t} WHERE ${current}`,
    // A record never expires before its lease (CONTRACT.md): expires_at is raised to the lease if needed.
    extend: `UPDATE ${t} SET lease_ms = @leaseMs, lease_expires_at = @now + @leaseMs,
  expires_at = max(expires_at, @now + @leaseMs)
WHERE ${current} RETURNING lease_expires_at`,
    startLease: `UPDATE ${t} SET lease_expires_at = max(lease_expires_at, @now + lease_ms),
  expires_at = max(expires_at, @now + lease_ms)
WHERE ${current} RETURNING lease_expires_at`,
    delete: `DELETE FROM ${t} WHERE "key" = @key RETURNING expires_at`,
  };
}
