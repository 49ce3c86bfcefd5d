export { createIdempotencyEngine } from './engine/engine.js';
export type { IdempotencyEngine } from './engine/engine.js';
export { normalizeIdempotencyOptions } from './engine/options.js';
export type { IdempotencyOptions, ResolvedIdempotencyOptions, WaitOptions } from './engine/options.js';
export type { IdempotencyEvent, IdempotencyHooks } from './engine/hooks.js';
export { canonicalQuery, computeStoreKey, defaultFingerprint } from './engine/fingerprint.js';
export type { Fingerprint, FingerprintInput } from './engine/fingerprint.js';
export { DEFAULT_REPLAY_HEADERS } from './engine/replay-headers.js';
export { RELEASED_STATUSES } from './engine/decide.js';
export { ServerErrorCode } from './engine/errors.js';
export type {
  BodyTooLarge,
  CapturedResponse,
  Decision,
  EngineRequest,
  Execution,
  NotReplayableReason,
  PreparedResponse,
  TransactionResult,
  TransactionalExecution,
} from './engine/types.js';
export { BODY_TOO_LARGE, isBodyTooLarge, isTransactional } from './engine/types.js';
export { MemoryStore } from './store/memory-store.js';
export type { MemoryStoreOptions } from './store/memory-store.js';
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
