export { idempotencyPlugin } from './adapters/fastify/plugin.js';
export type { FastifyIdempotencyOptions, FastifyRouteIdempotencyOptions } from './adapters/fastify/plugin.js';
export { MemoryStore } from './store/memory-store.js';
