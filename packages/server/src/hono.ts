export { idempotency } from './adapters/hono/middleware.js';
export type { HonoIdempotencyOptions } from './adapters/hono/middleware.js';
export { MemoryStore } from './store/memory-store.js';
