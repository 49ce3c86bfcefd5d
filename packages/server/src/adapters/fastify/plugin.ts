import { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import fp from 'fastify-plugin';
import { createIdempotencyEngine } from '../../engine/engine.js';
import type { IdempotencyEngine } from '../../engine/engine.js';
import type { IdempotencyOptions } from '../../engine/options.js';
import { BODY_TOO_LARGE, splitTarget } from '../../engine/types.js';
import type { Decision, Execution, Inspection, PreparedResponse } from '../../engine/types.js';
import { readRequestBody } from '../node-http/read-request-body.js';
import { recordResponse } from '../node-http/record-response.js';
import { bodyStream, bytesOfParsedBody, readPayload } from './read-payload.js';
import { setReplyHeaders } from './reply-headers.js';
import { startFastifyTransaction } from './transaction.js';
import type { FastifyTransaction } from './transaction.js';

/** Options of the Fastify plugin; `scope` receives the `FastifyRequest`. */
export type FastifyIdempotencyOptions = IdempotencyOptions<FastifyRequest>;

/** Per-route options (`config: { idempotency }`): override the plugin's, or `false` to turn it off. */
export type FastifyRouteIdempotencyOptions = Partial<FastifyIdempotencyOptions> | false;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Idempotency for this route: options merged over the plugin's, or `false` to skip it. */
    idempotency?: FastifyRouteIdempotencyOptions;
  }
}

interface RequestState {
  engine: IdempotencyEngine<FastifyRequest>;
  inspection: Inspection;
  body?: Uint8Array;
  execution?: Execution;
  transaction?: FastifyTransaction;
}

type WithState = FastifyRequest & Record<symbol, RequestState | null>;

/**
 * Hooks used: `preParsing` asks the engine what to do and keeps the raw body bytes (parsers only see
 * them once), up to the smaller of `maxRequestBytes` and the route's `bodyLimit` (past it: the 413
 * problem); `preHandler` claims the key after validation (a request that fails validation never
 * claims it); the route handler is wrapped (at `onRoute`) so the engine sees when it ends. The
 * response is recorded on `reply.raw` as it is written, hijacked replies included; in transactional
 * mode it is held in `onSend` until the commit.
 */
const idempotencyPluginImpl: FastifyPluginAsync<FastifyIdempotencyOptions> = async (fastify, options) => {
  const engine = createIdempotencyEngine<FastifyRequest>(options);
  const routeEngines = new WeakMap<object, IdempotencyEngine<FastifyRequest>>();
  // Per-request state in a request decorator (a property every request is built with), not a WeakMap.
  // A symbol of this registration: two registrations never share it.
  const kState = Symbol('oncely.fastify');
  fastify.decorateRequest(kState, null);
  const stateOf = (request: FastifyRequest): RequestState | null => (request as WithState)[kState] ?? null;

  const engineFor = (
    config: FastifyRouteIdempotencyOptions | undefined,
  ): IdempotencyEngine<FastifyRequest> | undefined => {
    if (config === false) return undefined;
    if (config === undefined) return engine;
    let found = routeEngines.get(config);
    if (found === undefined) {
      // Routes share the plugin's store unless they name their own.
      found = createIdempotencyEngine<FastifyRequest>({ ...options, store: engine.options.store, ...config });
      routeEngines.set(config, found);
    }
    return found;
  };

  fastify.addHook('onRoute', (route) => {
    // Bad per-route options fail when the route is declared, not on its first request.
    if (engineFor(route.config?.idempotency) === undefined) return;
    route.handler = trackHandler(route.handler, (request) => stateOf(request)?.execution);
  });

  /** The request's state, made on first use: what the engine decided from its head. */
  const inspect = (request: FastifyRequest): RequestState | null => {
    const state = stateOf(request);
    if (state !== null) return state;
    // A getter that builds a new object on every read: read it once.
    const route = request.routeOptions;
    const found = engineFor(route.config.idempotency);
    if (found === undefined) return null;
    const { raw } = request;
    const { path, query } = splitTarget(raw.url ?? '/');
    const { headers } = raw;
    const inspection = found.inspect(
      { method: raw.method ?? 'GET', path, query, keyHeader: headers['idempotency-key'], headers },
      // Never more than Fastify itself would parse for this route.
      route.bodyLimit,
    );
    const created: RequestState = { engine: found, inspection };
    (request as WithState)[kState] = created;
    return created;
  };

  // Callback style: a refused body is answered here, and `done` is then never called.
  fastify.addHook('preParsing', function idempotencyPreParsing(request, reply, payload, done) {
    const state = inspect(request);
    // Without a valid key the body is not ours to read: preHandler passes the request or answers 400.
    if (state === null || state.inspection.action !== 'read') return done(null, payload);
    const { inspection } = state;
    // A node request stream itself (no earlier preParsing hook replaced it; not `inject()`'s) is read
    // and its bytes put back for Fastify's parser (Fastify, oncely MemoryStore, first: a new stream per
    // request cost more).
    const untouched = payload === request.raw && request.raw instanceof IncomingMessage;
    const reading = untouched
      ? readRequestBody(request.raw, inspection.maxBytes)
      : readPayload(payload, inspection.maxBytes, request.headers['content-length']);
    reading.then(
      async (body) => {
        if (body !== BODY_TOO_LARGE && body instanceof Uint8Array) {
          state.body = body;
          // Fastify checks the bytes it parses against Content-Length through `receivedEncodedLength`.
          return done(null, untouched ? payload : bodyStream(body));
        }
        const refused = await state.engine.claim(inspection, BODY_TOO_LARGE, request);
        // The rest of the body is unread: close the connection, as Fastify does past its bodyLimit.
        reply.header('connection', 'close');
        if (refused.action === 'respond') sendPrepared(reply, refused.response);
      },
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  });

  const decide = async (request: FastifyRequest, state: RequestState): Promise<Decision> => {
    const { inspection } = state;
    if (inspection.action !== 'read') return inspection;
    // The engine refuses a parsed body over its limit too (when preParsing did not keep the bytes).
    return state.engine.claim(inspection, state.body ?? bytesOfParsedBody(request.body), request);
  };

  // Callback style on purpose: in transactional mode `done` is called from inside the store's
  // transaction, so the route handler runs in its async context (an async hook's continuation would not).
  fastify.addHook('preHandler', function idempotencyPreHandler(request, reply, done) {
    const state = inspect(request);
    if (state === null) return done();
    decide(request, state).then(
      (decision) => {
        if (decision.action === 'pass') return done();
        // Answered here: a hook that replies does not call done().
        if (decision.action === 'respond') return void sendPrepared(reply, decision.response);
        const { execution } = decision;
        state.execution = execution;
        if (!execution.transactional) {
          recordResponse(request.raw, reply.raw, execution);
          void execution.run(done);
          return;
        }
        state.transaction = startFastifyTransaction(execution, reply, done, (response) => {
          if (!reply.sent) sendPrepared(reply, response);
        });
      },
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  });

  // Fastify's `handlerTimeout` answers 503 while the handler still runs (its timeout is cooperative).
  fastify.addHook('onError', function idempotencyOnError(request, _reply, error, done) {
    if ((error as { code?: unknown }).code === 'FST_ERR_HANDLER_TIMEOUT')
      stateOf(request)?.execution?.timedOut();
    done();
  });

  // Callback style: only a transactional reply has anything to do here.
  fastify.addHook('onSend', function idempotencyOnSend(request, reply, payload, done) {
    const transaction = stateOf(request)?.transaction;
    if (transaction === undefined) return done(null, payload);
    transaction.settle(reply, payload).then(
      (sent) => done(null, sent),
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  });
};

/** Wraps a route handler so the engine sees when it ends (its promise, or its throw). */
function trackHandler(
  handler: RouteHandlerMethod,
  executionOf: (request: FastifyRequest) => Execution | undefined,
): RouteHandlerMethod {
  return function idempotentRouteHandler(this: unknown, request, reply) {
    const execution = executionOf(request);
    if (execution === undefined) return handler.call(this as never, request, reply);
    let result: unknown;
    try {
      result = handler.call(this as never, request, reply);
    } catch (error) {
      execution.track(Promise.reject(error));
      throw error;
    }
    // A handler that returns no promise ends with its reply (a reply is a thenable, settled when sent).
    execution.track(
      isThenable(result) ? result : new Promise<void>((resolve, reject) => reply.then(resolve, reject)),
    );
    return result;
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

function sendPrepared(reply: FastifyReply, response: PreparedResponse): FastifyReply {
  // Fastify writes the head, then the body, then ends: uncorked, a Buffer body leaves in a write of
  // its own. Corked, head and body leave together; the response's end() uncorks the socket.
  if (reply.raw instanceof ServerResponse) reply.raw.socket?.cork();
  reply.code(response.status);
  setReplyHeaders(reply, response.headers);
  const { buffer, byteOffset, byteLength } = response.body;
  return reply.send(Buffer.from(buffer, byteOffset, byteLength));
}

/** The Fastify plugin (wrapped with `fastify-plugin`, so its hooks cover the routes of the parent). */
export const idempotencyPlugin = fp(idempotencyPluginImpl, {
  fastify: '5.x',
  name: '@oncely/server/fastify',
});
