import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { createIdempotencyEngine } from '../../engine/engine.js';
import type { IdempotencyEngine } from '../../engine/engine.js';
import { readKeyHeader } from '../../engine/key-header.js';
import type { IdempotencyOptions } from '../../engine/options.js';
import { requestTooLargeResponse } from '../../engine/problems.js';
import { BODY_TOO_LARGE, isBodyTooLarge, isTransactional } from '../../engine/types.js';
import type { BodyTooLarge, Decision, Execution } from '../../engine/types.js';
import { captureFastifyPayload } from './capture-payload.js';
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

const encoder = new TextEncoder();

/**
 * Hooks used: `preParsing` keeps the raw body bytes (parsers only see them once), up to the smaller
 * of `maxRequestBytes` and the route's `bodyLimit` (past it: the 413 problem), `preHandler` claims
 * the key after validation (a request that fails validation never claims it), `onSend` stores the
 * outcome before it is sent. A handler error reaches `onSend` as its 5xx answer and releases the key.
 */
const idempotencyPluginImpl: FastifyPluginAsync<FastifyIdempotencyOptions> = async (fastify, options) => {
  const engine = createIdempotencyEngine<FastifyRequest>(options);
  const routeEngines = new WeakMap<object, IdempotencyEngine<FastifyRequest>>();
  const states = new WeakMap<FastifyRequest, RequestState>();

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

  const engineFor = (request: FastifyRequest): IdempotencyEngine<FastifyRequest> | undefined => {
    const config = request.routeOptions.config.idempotency;
    if (config === false) return undefined;
    return config === undefined ? engine : routeEngine(config);
  };

  // Callback style: a refused body is answered here, and `done` is then never called.
  fastify.addHook('preParsing', function idempotencyPreParsing(request, reply, payload, done) {
    const found = engineFor(request);
    if (found === undefined) return done(null, payload);
    const state: RequestState = { engine: found };
    states.set(request, state);
    if (!found.options.methods.has(request.method)) return done(null, payload);
    // Without a valid key the body is not ours to read: preHandler passes the request or answers 400.
    const header = readKeyHeader(keyHeaderOf(request));
    if (header.kind !== 'valid') return done(null, payload);
    // Never more than Fastify itself would parse for this route.
    const limit = Math.min(found.options.maxRequestBytes, request.routeOptions.bodyLimit);
    readPayload(payload, limit, request.headers['content-length']).then(
      (body) => {
        if (isBodyTooLarge(body)) {
          // The rest of the body is unread: close the connection, as Fastify does past its bodyLimit.
          reply.header('connection', 'close');
          return void sendPrepared(reply, requestTooLargeResponse(limit, header.key));
        }
        state.body = body;
        // Fastify checks the bytes it parses against Content-Length through this property.
        done(null, Object.assign(Readable.from([body]), { receivedEncodedLength: body.byteLength }));
      },
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  });

  const claimFor = async (request: FastifyRequest): Promise<Decision | undefined> => {
    let state = states.get(request);
    if (state === undefined) {
      const found = engineFor(request);
      if (found === undefined) return undefined;
      state = { engine: found };
      states.set(request, state);
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
        const state = states.get(request)!;
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

  fastify.addHook('onSend', async (request, reply, payload) => {
    const state = states.get(request);
    if (state?.transaction !== undefined) return state.transaction.settle(reply, payload);
    if (state?.execution === undefined) return payload;
    return captureFastifyPayload(reply, payload, state.execution);
  });
};

function sendPrepared(
  reply: FastifyReply,
  response: { status: number; headers: ReadonlyArray<readonly [string, string]>; body: Uint8Array },
): FastifyReply {
  reply.code(response.status);
  const grouped = new Map<string, string[]>();
  for (const [name, value] of response.headers) grouped.set(name, [...(grouped.get(name) ?? []), value]);
  for (const [name, values] of grouped) reply.header(name, values.length === 1 ? values[0] : values);
  const { buffer, byteOffset, byteLength } = response.body;
  return reply.send(Buffer.from(buffer, byteOffset, byteLength));
}

/** The key header; headersDistinct shows a repeated header line by line (`inject()` requests lack it). */
function keyHeaderOf(request: FastifyRequest): string | string[] | undefined {
  return (
    (request.raw.headersDistinct as Record<string, string[]> | undefined)?.['idempotency-key'] ??
    request.headers['idempotency-key']
  );
}

/**
 * Reads `payload` to its end, holding at most `limit` bytes: a declared length above it is refused
 * before reading, a longer stream as soon as its running total crosses it (then left paused, unread).
 */
function readPayload(
  payload: Readable,
  limit: number,
  declared: string | undefined,
): Promise<Buffer | BodyTooLarge> {
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > limit) {
    return Promise.resolve(BODY_TOO_LARGE);
  }
  return new Promise<Buffer | BodyTooLarge>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      payload.off('data', onData);
      payload.off('end', onEnd);
      payload.off('error', onError);
      payload.off('close', onClose);
    };
    const onData = (chunk: Buffer | string): void => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += bytes.byteLength;
      if (size > limit) {
        cleanup();
        payload.pause();
        chunks.length = 0;
        resolve(BODY_TOO_LARGE);
        return;
      }
      chunks.push(bytes);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('The request was aborted before its body was read.'));
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
    payload.on('close', onClose);
  });
}

function bytesOfParsedBody(body: unknown): Uint8Array {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return encoder.encode(body);
  if (body === undefined || body === null) return new Uint8Array(0);
  return encoder.encode(JSON.stringify(body) ?? '');
}

/** The Fastify plugin (wrapped with `fastify-plugin`, so its hooks cover the routes of the parent). */
export const idempotencyPlugin = fp(idempotencyPluginImpl, {
  fastify: '5.x',
  name: '@oncely/server/fastify',
});
