// What applications and store authors use. The engine's adapter-facing API (requests, decisions,
// executions) is not here: it lives in '@oncely/server/adapter-kit', for framework adapters.
export { ProblemType, isOncelyError } from '@oncely/core';
export type { ProblemTypeUri } from '@oncely/core';
export type { IdempotencyOptions, WaitOptions } from './engine/options.js';
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
