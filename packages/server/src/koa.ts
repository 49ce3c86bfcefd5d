export { idempotency } from './adapters/koa/middleware.js';
export type { KoaIdempotencyOptions } from './adapters/koa/middleware.js';
export { MemoryStore } from './store/memory-store.js';
