export { withIdempotency } from './adapters/node/with-idempotency.js';
export type { NodeIdempotencyOptions, NodeRequestListener } from './adapters/node/with-idempotency.js';
export { MemoryStore } from './store/memory-store.js';
