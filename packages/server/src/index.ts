// What applications and store authors use. The engine's adapter-facing API (requests, decisions,
// executions) is not here: it lives in '@oncely/server/adapter-kit', for framework adapters.
export { ProblemType, isOncelyError } from '@oncely/core';
export type { ProblemTypeUri } from '@oncely/core';
export type { IdempotencyOptions, WaitOptions } from './engine/options.js';
export type { KeySource } from './engine/key-source.js';
export type { ResponseSummary, ShouldStore, StoreDecision } from './engine/should-store.js';
// Idempotent functions: jobs, queue consumers, webhooks; the same engine as the HTTP adapters.
export { idempotent } from './function/idempotent.js';
export type { IdempotentOptions } from './function/options.js';
export { IdempotentCallError, isIdempotentCallError } from './function/errors.js';
export type { IdempotentCallErrorCode } from './function/errors.js';
export type { IdempotencyEvent, IdempotencyHooks } from './engine/hooks.js';
export { computeStoreKey, defaultFingerprint } from './engine/fingerprint.js';
export type { Fingerprint, FingerprintInput } from './engine/fingerprint.js';
export { DEFAULT_REPLAY_HEADERS } from './engine/replay-headers.js';
export { ServerErrorCode } from './engine/errors.js';
export { MemoryStore } from './store/memory-store.js';
export type {
  MemoryStoreEviction,
  MemoryStoreFull,
  MemoryStoreOptions,
} from './store/memory-store-options.js';
export { StoreErrorCode } from './store/errors.js';
export { RecordStatus } from './store/types.js';
export type {
  ClaimRequest,
  ClaimResult,
  IdempotencyRecord,
  IdempotencyStore,
  ExecuteTransactionally,
  StoredResponse,
  TransactionDecision,
  TransactionOutcome,
} from './store/types.js';
export type { StoreCallEvent, StoreOperation } from './observability/timed-store.js';
export type { OncelyLogger } from '@oncely/core';
