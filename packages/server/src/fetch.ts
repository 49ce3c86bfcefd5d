export { withIdempotency } from './adapters/fetch/with-idempotency.js';
export type { FetchHandler, FetchIdempotencyOptions } from './adapters/fetch/with-idempotency.js';
export { MemoryStore } from './store/memory-store.js';
