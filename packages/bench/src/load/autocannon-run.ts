import autocannon from 'autocannon';
import type { Mode } from '../scenarios.js';
import { PAYMENT_PATH, PAYMENT_REQUEST_BODY } from '../server/payment.js';

export interface LoadOptions {
  port: number;
  mode: Mode;
  /** Prefix of the fresh keys in `first` mode; unique per scenario and run. */
  keyPrefix: string;
  /** The one key of `replay` mode, completed before the run. */
  replayKey: string;
  durationSec: number;
  connections: number;
}

export interface LoadResult {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

const BASE_HEADERS = { 'content-type': 'application/json' };

/**
 * One autocannon run against 127.0.0.1. `first`: every request carries a fresh Idempotency-Key (a
 * counter in `setupRequest`); `replay`: every request carries the same, already completed key. Bare
 * apps get the same requests, so the load generator does the same work in every row.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { port, mode, keyPrefix, replayKey, durationSec, connections } = options;
  let counter = 0;
  const request: autocannon.Request =
    mode === 'first'
      ? {
          method: 'POST',
          path: PAYMENT_PATH,
          headers: BASE_HEADERS,
          body: PAYMENT_REQUEST_BODY,
          setupRequest: (req) => {
            counter += 1;
            return { ...req, headers: { ...BASE_HEADERS, 'idempotency-key': `${keyPrefix}-${counter}` } };
          },
        }
      : {
          method: 'POST',
          path: PAYMENT_PATH,
          headers: { ...BASE_HEADERS, 'idempotency-key': replayKey },
          body: PAYMENT_REQUEST_BODY,
        };
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    pipelining: 1,
    duration: durationSec,
    requests: [request],
  });
  return {
    requestsPerSec: result.requests.total / (result.duration > 0 ? result.duration : durationSec),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/** Completes `key` once, so a replay run replays it; returns the status of that request. */
export async function primeReplayKey(port: number, key: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}${PAYMENT_PATH}`, {
    method: 'POST',
    headers: { ...BASE_HEADERS, 'idempotency-key': key },
    body: PAYMENT_REQUEST_BODY,
  });
  await response.arrayBuffer();
  return response.status;
}
