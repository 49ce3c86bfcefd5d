export { idempotency } from './adapters/express/middleware.js';
export type { ExpressIdempotencyOptions } from './adapters/express/middleware.js';
export { MemoryStore } from './store/memory-store.js';
