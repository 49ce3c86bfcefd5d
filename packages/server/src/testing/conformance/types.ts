import type { HeaderSource } from '@oncely/core';
import type { KeySource } from '../../engine/key-source.js';
import type { IdempotencyOptions } from '../../engine/options.js';

/** A request as the framework handed it to the route, body read as text by the framework. */
export interface ConformanceRequest {
  method: string;
  /** Path and query, as requested. */
  url: string;
  headers: HeaderSource;
  body: string;
}

/** What the route does; the harness turns it into the framework's own calls. */
export type ConformanceResponse =
  /** Answer at once: status, headers (repeat a name to send it twice), body. */
  | { kind: 'send'; status: number; headers: ReadonlyArray<readonly [string, string]>; body: Uint8Array }
  /**
   * Stream the body in chunks, `delayMs` apart (default 5), without a Content-Length, the way the
   * framework streams (node: `stream.pipeline` into the response; Web: a `ReadableStream` body). With
   * `failAfter`, the stream errors after that many chunks (the framework's error path follows).
   */
  | {
      kind: 'stream';
      status: number;
      headers: ReadonlyArray<readonly [string, string]>;
      chunks: readonly Uint8Array[];
      delayMs?: number;
      failAfter?: number;
    }
  /** Throw from the route handler; the framework's error handling answers (a 500 without a stack). */
  | { kind: 'throw'; error: Error };

/** The framework-neutral app the suite runs on each adapter. */
export interface ConformanceApp {
  /**
   * Adapter options, except `scope`: the harness scopes by {@link ConformanceApp.scopeOf}. A `key`
   * function reads only the body bytes, so it suits every framework's request type.
   */
  options: Omit<IdempotencyOptions<never>, 'scope' | 'key'> & { key?: KeySource<unknown> | undefined };
  /** The scope of a request, from its headers. */
  scopeOf(headers: HeaderSource): string;
  /** The route behind the adapter, for every method and path. */
  handle(request: ConformanceRequest): Promise<ConformanceResponse>;
  /**
   * When set, mount the framework's usual timeout so that it answers (503 or 504) after this many ms
   * while the handler runs on: connect-timeout (Express, node:http), Fastify's `handlerTimeout`,
   * `hono/timeout` above the idempotency middleware, a timeout wrapped around the fetch handler.
   */
  timeoutMs?: number;
}

/** A server the harness started on 127.0.0.1 (port 0). */
export interface ConformanceServer {
  /** Base URL, e.g. `http://127.0.0.1:54321`. */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the adapter under test with `app` behind it: mount the adapter with
 * `{ ...app.options, scope: (req) => app.scopeOf(headersOf(req)) }`, route every method (MERGE too) and
 * path to `app.handle`, answer handler errors with a 500 that holds no stack trace, and mount a timeout
 * when `app.timeoutMs` is set.
 */
export type ConformanceHarness = (app: ConformanceApp) => Promise<ConformanceServer>;
