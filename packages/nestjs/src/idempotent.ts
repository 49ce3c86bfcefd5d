import { SetMetadata } from '@nestjs/common';
import { invalidOptionError } from '@oncely/core';
import type { RouteIdempotencyOptions } from './options.js';

/** The metadata key `@Idempotent()` writes on a controller class or a route handler. */
export const IDEMPOTENT_METADATA = 'oncely:idempotent';

/**
 * Per-route idempotency, on a route handler or a whole controller (a handler's own options win).
 * Every keyed unsafe request is already protected by `IdempotencyModule` with the module's options;
 * this overrides some of them for the route, e.g. `@Idempotent({ required: true })`, or turns the
 * route off with `@Idempotent(false)`. `@Idempotent()` alone keeps the module's options and documents
 * the route.
 *
 * @example
 * @Post('payments')
 * @Idempotent({ required: true, ttl: 3_600_000 })
 * create(@Body() body: CreatePayment) { ... }
 */
export function Idempotent(options: RouteIdempotencyOptions = {}): ClassDecorator & MethodDecorator {
  if (options !== false && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw invalidOptionError('@Idempotent(options)', options, 'an options object or false');
  }
  return SetMetadata(IDEMPOTENT_METADATA, options);
}
