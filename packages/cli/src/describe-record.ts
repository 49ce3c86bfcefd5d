import type { IdempotencyRecord } from '@oncely/server';

/** What `inspect` and `purge` show about one record. */
export interface RecordView {
  storeKey: string;
  scope: string;
  key: string;
  state: IdempotencyRecord['status'];
  /** The fencing token of the current lease holder (the last claim or takeover). */
  fencingToken: number;
  leaseExpiresAt: string;
  leaseActive: boolean;
  expiresAt: string;
  fingerprint: string;
  /** The stored response, once completed. */
  response?: {
    status: number;
    headers: number;
    /** Stored body bytes; `null` when the body was not kept (too large or streamed: not replayable). */
    bodyBytes: number | null;
  };
}

/** The view of a record read from the store at `now` (local clock). */
export function viewRecord(
  ids: { storeKey: string; scope: string; key: string },
  record: IdempotencyRecord,
  now: number,
): RecordView {
  const view: RecordView = {
    ...ids,
    state: record.status,
    fencingToken: record.fencingToken,
    leaseExpiresAt: new Date(record.leaseExpiresAt).toISOString(),
    leaseActive: record.status === 'in_progress' && record.leaseExpiresAt > now,
    expiresAt: new Date(record.expiresAt).toISOString(),
    fingerprint: record.fingerprint,
  };
  if (record.response !== undefined) {
    view.response = {
      status: record.response.status,
      headers: record.response.headers.length,
      bodyBytes: record.response.body === null ? null : record.response.body.byteLength,
    };
  }
  return view;
}

/** The record as aligned text lines. */
export function describeRecord(view: RecordView, record: IdempotencyRecord, now: number): string {
  const lease =
    view.state === 'completed'
      ? `${view.leaseExpiresAt} (no longer held: completed)`
      : `${view.leaseExpiresAt} (${relative(record.leaseExpiresAt, now)}${view.leaseActive ? '' : ': a retry will take over'})`;
  let stored = '(none yet: in progress)';
  if (view.response !== undefined) {
    const { status, headers, bodyBytes } = view.response;
    stored =
      `${status}, ${headers} header${headers === 1 ? '' : 's'}, ` +
      (bodyBytes === null ? 'body not kept (replays answer "not replayable")' : `body ${bodyBytes} bytes`);
  }
  const rows: Array<[string, string]> = [
    ['store key', view.storeKey],
    ['scope, key', `${JSON.stringify(view.scope)}, ${JSON.stringify(view.key)}`],
    ['state', view.state],
    ['lease holder', `fencing token ${view.fencingToken}`],
    ['lease expires', lease],
    ['expires', `${view.expiresAt} (${relative(record.expiresAt, now)})`],
    ['fingerprint', view.fingerprint],
    ['stored status', stored],
  ];
  return rows.map(([name, value]) => `  ${name.padEnd(14)} ${value}`).join('\n');
}

/** "in 4 min 10 s" or "12 s ago", on the local clock. */
function relative(at: number, now: number): string {
  const ms = at - now;
  const text = duration(Math.abs(ms));
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}
