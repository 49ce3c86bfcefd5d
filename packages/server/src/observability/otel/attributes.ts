/**
 * Names of the attributes and metrics Oncely records, in OpenTelemetry's semantic-convention style
 * under the `oncely.` namespace (documented in docs/operating.md). HTTP attributes use the standard
 * names.
 */
export const OncelyAttribute = {
  /** What the claim decided: see {@link IdempotencyDecision}. */
  decision: 'oncely.idempotency.decision',
  /** How a claimed request ended: see {@link IdempotencyOutcome}. */
  outcome: 'oncely.idempotency.outcome',
  /** First 16 hex digits of SHA-256 of the key; the client records the same one. */
  keyHash: 'oncely.idempotency.key_hash',
  /** The fencing token of the claim. */
  fencingToken: 'oncely.idempotency.fencing_token',
  /** Status of the response that was replayed, stored or released. */
  responseStatus: 'oncely.idempotency.response_status',
  /** Whether the stored response has its body (false: too large or a stream). */
  replayable: 'oncely.idempotency.replayable',
  /** Why a claim was released: `error` (the handler threw) or `status` (a status that is not kept). */
  releaseReason: 'oncely.idempotency.release_reason',
  /** The store operation an outcome or a failure belongs to. */
  storeOperation: 'oncely.store.operation',
  /** What a store call returned (histogram only). */
  storeOutcome: 'oncely.store.outcome',
  /** Whether a store failure let the request run unprotected (`onStoreError: 'fail-open'`). */
  failOpen: 'oncely.idempotency.fail_open',
  httpMethod: 'http.request.method',
  urlPath: 'url.path',
  errorType: 'error.type',
} as const;

/** Values of `oncely.idempotency.decision`: what the claim of a keyed request decided. */
export const IdempotencyDecision = {
  claimed: 'claimed',
  takeover: 'takeover',
  replayed: 'replayed',
  conflict: 'conflict',
  mismatch: 'mismatch',
  storeFailure: 'store_failure',
} as const;

/** Values of `oncely.idempotency.outcome`: how a claimed request ended. */
export const IdempotencyOutcome = {
  stored: 'stored',
  released: 'released',
  fenced: 'fenced',
  storeFailure: 'store_failure',
  /** Still open when the span table was full (an execution that never settled). */
  unknown: 'unknown',
} as const;

/** Names of the instruments. */
export const OncelyMetric = {
  decisions: 'oncely.server.decisions',
  outcomes: 'oncely.server.outcomes',
  storeDuration: 'oncely.server.store.duration',
} as const;

/** Bucket bounds of the store-latency histogram, in seconds: 0.5 ms to 5 s. */
export const STORE_DURATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];
