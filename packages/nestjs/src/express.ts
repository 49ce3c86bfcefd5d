import type { MiddlewareConsumer } from '@nestjs/common';
import { RequestMethod } from '@nestjs/common';
import { idempotency } from '@oncely/server/express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { IdempotentRoute } from './idempotent-routes.js';
import type { IdempotencyModuleOptions } from './options.js';

/**
 * Express platform: Oncely's Express middleware, mounted through Nest's middleware consumer (so after
 * Nest's body parsers: the middleware fingerprints `req.rawBody` when the app was created with
 * `rawBody: true`, else the parsed body). A route with its own options gets a middleware of its own,
 * mounted on its routes ahead of the one for every other route, which then leaves the request alone.
 */
export function applyExpressIdempotency(
  consumer: MiddlewareConsumer,
  options: IdempotencyModuleOptions,
  routes: readonly IdempotentRoute[],
): void {
  const claimed = new WeakSet<Request>();
  for (const route of routes) {
    const middleware = route.options === false ? undefined : idempotency({ ...options, ...route.options });
    consumer
      .apply(function routeIdempotency(req: Request, res: Response, next: NextFunction) {
        // A request is matched by the first route middleware only (a route's own middleware stops at
        // the first of its paths that matches, as Nest's do).
        if (claimed.has(req)) return next();
        claimed.add(req);
        if (middleware === undefined) return next();
        middleware(req, res, next);
      })
      .forRoutes(...route.routes);
  }
  const middleware: RequestHandler = idempotency(options);
  consumer
    .apply(function defaultIdempotency(req: Request, res: Response, next: NextFunction) {
      if (claimed.has(req)) return next();
      middleware(req, res, next);
    })
    .forRoutes({ path: '*', method: RequestMethod.ALL });
}
