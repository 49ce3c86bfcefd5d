import { idempotencyPlugin } from '@oncely/server/fastify';
import type { FastifyInstance } from 'fastify';
import type { IdempotentRoute } from './idempotent-routes.js';
import type { IdempotencyModuleOptions } from './options.js';

/** What `@RouteConfig()` of @nestjs/platform-fastify writes; Nest passes it to Fastify as the route's `config`. */
const FASTIFY_ROUTE_CONFIG_METADATA = '__fastify_route_config__';

/**
 * Fastify platform: Oncely's Fastify plugin on Nest's Fastify instance (its `preParsing` hook keeps the
 * raw body bytes before Nest's parsers run). A route's own options become its Fastify route config
 * (`config.idempotency`, the plugin's per-route options), merged into what `@RouteConfig()` set.
 * Runs before Nest registers the routes.
 */
export async function applyFastifyIdempotency(
  fastify: FastifyInstance,
  options: IdempotencyModuleOptions,
  routes: readonly IdempotentRoute[],
): Promise<void> {
  for (const { handler, options: routeOptions } of routes) {
    const config = Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) as object | undefined;
    Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { ...config, idempotency: routeOptions }, handler);
  }
  await fastify.register(idempotencyPlugin, options);
}
