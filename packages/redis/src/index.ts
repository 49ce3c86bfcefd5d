export { RedisStore } from './redis-store.js';
export type { RedisStoreOptions } from './options.js';
export { RedisStoreError, RedisStoreErrorCode, isRedisStoreError } from './errors.js';
