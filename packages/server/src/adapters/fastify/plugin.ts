import { ServerResponse } from 'node:http';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { createIdempotencyEngine } from '../../engine/engine.js';
import type { IdempotencyEngine } from '../../engine/engine.js';
import { readKeyHeader } from '../../engine/key-header.js';
import type { IdempotencyOptions } from '../../engine/options.js';
import { requestTooLargeResponse } from '../../engine/problems.js';
import { isBodyTooLarge, isTransactional } from '../../engine/types.js';
import type { Decision, Execution, PreparedResponse } from '../../engine/types.js';
import { keyHeaderLines } from '../node-http/key-header-lines.js';
import { captureFastifyPayload } from './capture-payload.js';
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
  body?: Uint8Array;
  execution?: Execution;
  transaction?: FastifyTransaction;
}

type WithState = FastifyRequest & Record<symbol, RequestState | null>;

/**
 * Hooks used: `preParsing` keeps the raw body bytes (parsers only see them once), up to the smaller
 * of `maxRequestBytes` and the route's `bodyLimit` (past it: the 413 problem), `preHandler` claims
 * the key after validation (a request that fails validation never claims it), `onSend` stores the
 * outcome before it is sent. A handler error reaches `onSend` as its 5xx answer and releases the key.
 */
const idempotencyPluginImpl: FastifyPluginAsync<FastifyIdempotencyOptions> = async (fastify, options) => {
  const engine = createIdempotencyEngine<FastifyRequest>(options);
  const routeEngines = new WeakMap<object, IdempotencyEngine<FastifyRequest>>();
  // Per-request state in a request decorator (a property every request is built with), not a WeakMap.
  // A symbol of this registration: two registrations never share it.
  const kState = Symbol('oncely.fastify');
  fastify.decorateRequest(kState, null);
  const stateOf = (request: FastifyRequest): RequestState | null => (request as WithState)[kState] ?? null;
  const setState = (request: FastifyRequest, state: RequestState): void => {
    (request as WithState)[kState] = state;
  };

  const routeEngine = (config: Partial<FastifyIdempotencyOptions>): IdempotencyEngine<FastifyRequest> => {
    let found = routeEngines.get(config);
    if (found === undefined) {
      // Routes share the plugin's store unless they name their own.
      found = createIdempotencyEngine<FastifyRequest>({ ...options, store: engine.options.store, ...config });
      routeEngines.set(config, found);
    }
    return found;
  };

  // Bad per-route options fail when the route is declared, not on its first request.
  fastify.addHook('onRoute', (route) => {
    const config = route.config?.idempotency;
    if (config !== undefined && config !== false) routeEngine(config);
  });

  const engineFor = (
    config: FastifyRouteIdempotencyOptions | undefined,
  ): IdempotencyEngine<FastifyRequest> | undefined => {
    if (config === false) return undefined;
    return config === undefined ? engine : routeEngine(config);
  };

  // Callback style: a refused body is answered here, and `done` is then never called.
  fastify.addHook('preParsing', function idempotencyPreParsing(request, reply, payload, done) {
    // A getter that builds a new object on every read: read it once.
    const route = request.routeOptions;
    const found = engineFor(route.config.idempotency);
    if (found === undefined) return done(null, payload);
    const state: RequestState = { engine: found };
    setState(request, state);
    if (!found.options.methods.has(request.method)) return done(null, payload);
    // Without a valid key the body is not ours to read: preHandler passes the request or answers 400.
    const header = readKeyHeader(keyHeaderOf(request));
    if (header.kind !== 'valid') return done(null, payload);
    // Never more than Fastify itself would parse for this route.
    const limit = Math.min(found.options.maxRequestBytes, route.bodyLimit);
    readPayload(payload, limit, request.headers['content-length']).then(
      (body) => {
        if (isBodyTooLarge(body)) {
          // The rest of the body is unread: close the connection, as Fastify does past its bodyLimit.
          reply.header('connection', 'close');
          return void sendPrepared(reply, requestTooLargeResponse(limit, header.key));
        }
        state.body = body;
        // Fastify checks the bytes it parses against Content-Length through this property.
        done(null, bodyStream(body));
      },
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  });

  const claimFor = async (request: FastifyRequest): Promise<Decision | undefined> => {
    let state = stateOf(request);
    if (state === null) {
      const found = engineFor(request.routeOptions.config.idempotency);
      if (found === undefined) return undefined;
      state = { engine: found };
      setState(request, state);
    }
    const url = request.url;
    const queryStart = url.indexOf('?');
    const { body } = state;
    return state.engine.begin(
      {
        method: request.method,
        path: queryStart === -1 ? url : url.slice(0, queryStart),
        query: queryStart === -1 ? '' : url.slice(queryStart + 1),
        keyHeader: keyHeaderOf(request),
        headers: request.headers,
        // The engine refuses a parsed body over its limit too (when preParsing did not keep the bytes).
        readBody: async () => body ?? bytesOfParsedBody(request.body),
      },
      request,
    );
  };

  // Callback style on purpose: in transactional mode `done` is called from inside the store's
  // transaction, so the route handler runs in its async context (an async hook's continuation would not).
  fastify.addHook('preHandler', function idempotencyPreHandler(request, reply, done) {
    claimFor(request).then(
      (decision) => {
        if (decision === undefined || decision.action === 'pass') return done();
        // Answered here: a hook that replies does not call done().
        if (decision.action === 'respond') return void sendPrepared(reply, decision.response);
        const state = stateOf(request)!;
        const { execution } = decision;
        state.execution = execution;
        if (!isTransactional(execution)) return done();
        state.transaction = startFastifyTransaction(execution, {
          proceed: () => done(),
          answer: (response) => void sendPrepared(reply, response),
          fail: (error) => done(error instanceof Error ? error : new Error(String(error))),
        });
      },
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  });

  // Callback style: a request with nothing to store goes on at once, without a promise.
  fastify.addHook('onSend', function idempotencyOnSend(request, reply, payload, done) {
    const state = stateOf(request);
    const pending =
      state?.transaction !== undefined
        ? state.transaction.settle(reply, payload)
        : state?.execution !== undefined
          ? captureFastifyPayload(reply, payload, state.execution)
          : undefined;
    if (pending === undefined) return done(null, payload);
    pending.then(
      (sent) => done(null, sent),
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  });
};

function sendPrepared(reply: FastifyReply, response: PreparedResponse): FastifyReply {
  // Fastify writes the head, then the body, then ends: uncorked, a Buffer body leaves in a write of
  // its own. Corked, head and body leave together; the response's end() uncorks the socket.
  if (reply.raw instanceof ServerResponse) reply.raw.socket?.cork();
  reply.code(response.status);
  setReplyHeaders(reply, response.headers);
  const { buffer, byteOffset, byteLength } = response.body;
  return reply.send(Buffer.from(buffer, byteOffset, byteLength));
}

/** The key header; headersDistinct shows a repeated header line by line (`inject()` requests lack it). */
function keyHeaderOf(request: FastifyRequest): string | string[] | undefined {
  return keyHeaderLines(request.raw);
}

/** The Fastify plugin (wrapped with `fastify-plugin`, so its hooks cover the routes of the parent). */
export const idempotencyPlugin = fp(idempotencyPluginImpl, {
  fastify: '5.x',
  name: '@oncely/server/fastify',
});
