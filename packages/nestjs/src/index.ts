export { IdempotencyModule } from './idempotency-module.js';
export { Idempotent, IDEMPOTENT_METADATA } from './idempotent.js';
export { IDEMPOTENCY_MODULE_OPTIONS } from './options.js';
export type {
  IdempotencyModuleAsyncOptions,
  IdempotencyModuleOptions,
  RouteIdempotencyOptions,
} from './options.js';
// Stores come from their own packages (`MemoryStore` from '@oncely/server', `RedisStore`, …), and the
// engine's options and problem types from '@oncely/server' and '@oncely/core': not re-exported here.
