/**
 * Names of the attributes, events and metrics of the client, in OpenTelemetry's semantic-convention
 * style under the `oncely.` namespace (documented in docs/operating.md).
 */
export const OncelyClientAttribute = {
  /** First 16 hex digits of SHA-256 of the key; the server records the same one. */
  keyHash: 'oncely.idempotency.key_hash',
  /** Attempts made by the call (on the span) or the number of the attempt that failed (on an event). */
  attempts: 'oncely.client.attempts',
  attempt: 'oncely.client.attempt',
  /** Total time slept between attempts, in ms. */
  totalDelay: 'oncely.client.total_delay_ms',
  /** `success`, `give_up` or `aborted`. */
  outcome: 'oncely.client.outcome',
  /** Why the call gave up, e.g. `retries exhausted (status 503)`, `status 404`. */
  giveUpReason: 'oncely.client.give_up_reason',
  /** The backoff before the next attempt, in ms. */
  retryDelay: 'oncely.client.retry.delay_ms',
  /** Why the attempt is retried, e.g. `status 503`, `network ECONNRESET`, `request in progress`. */
  retryReason: 'oncely.client.retry.reason',
  errorType: 'error.type',
} as const;

/** Values of `oncely.client.outcome`. */
export const ClientOutcome = {
  success: 'success',
  giveUp: 'give_up',
  aborted: 'aborted',
} as const;

export const OncelyClientMetric = {
  operationDuration: 'oncely.client.operation.duration',
  retries: 'oncely.client.retries',
} as const;

/** The span of one logical call, and the event of each retry on it. */
export const CALL_SPAN_NAME = 'oncely.operation';
export const RETRY_EVENT_NAME = 'oncely.retry';

/** Bucket bounds of the operation-duration histogram, in seconds: 5 ms to 2 min. */
export const OPERATION_DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
];
