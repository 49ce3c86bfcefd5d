import { IdempotencyError, IdempotencyErrorCodes } from '@node-idempotency/core';
import type { Idempotency, IdempotencyParams, IdempotencyResponse } from '@node-idempotency/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * An Express middleware over `@node-idempotency/core`, written from its README's flow and its NestJS
 * interceptor (`@node-idempotency/nestjs`), because no `@node-idempotency/express` exists on npm:
 * `onRequest` before the handler (a cached response is sent back with `Idempotent-Replayed: true`),
 * `onResponse` with the handler's body and status, awaited before the response is sent.
 * Mounted after `express.json()`: the library fingerprints the parsed body.
 */
export function nodeIdempotencyMiddleware(idempotency: Idempotency): RequestHandler {
  const errorStatus: Record<string, number> = {
    [IdempotencyErrorCodes.IDEMPOTENCY_FINGERPRINT_MISSMATCH]: 422,
    [IdempotencyErrorCodes.IDEMPOTENCY_KEY_LEN_EXEEDED]: 400,
    [IdempotencyErrorCodes.IDEMPOTENCY_KEY_MISSING]: 400,
    [IdempotencyErrorCodes.REQUEST_IN_PROGRESS]: 409,
  };
  return function nodeIdempotency(req: Request, res: Response, next: NextFunction) {
    const params: IdempotencyParams = {
      headers: req.headers,
      body: req.body as Record<string, unknown>,
      path: req.url,
      method: req.method,
    };
    idempotency.onRequest<unknown, unknown>(params).then(
      (cached) => {
        if (cached === undefined) {
          const json = res.json.bind(res);
          res.json = (body: unknown) => {
            const additional: Record<string, unknown> = { statusCode: res.statusCode };
            const response: IdempotencyResponse = { body, additional };
            idempotency.onResponse(params, response).then(
              () => json(body),
              (error: unknown) => next(error),
            );
            return res;
          };
          next();
          return;
        }
        const statusCode = cached.additional?.statusCode;
        res.status(typeof statusCode === 'number' ? statusCode : 200);
        res.set('Idempotent-Replayed', 'true');
        res.json(cached.body);
      },
      (error: unknown) => {
        if (error instanceof IdempotencyError) {
          if (error.code === IdempotencyErrorCodes.REQUEST_IN_PROGRESS) res.set('Retry-After', '1');
          res.status(errorStatus[error.code] ?? 500).json({ message: error.message });
          return;
        }
        next(error);
      },
    );
  };
}
