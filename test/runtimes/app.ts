import { createFetch, getRetryInfo } from '@oncely/client';
import { MemoryStore, withIdempotency } from '@oncely/server/fetch';

/**
 * The lease of `/pay`: short, so a test can hold a request past it and see the heartbeat keep the key
 * (the engine's timers run on each runtime's own `setTimeout`).
 */
export const LEASE_MS = 600;

/**
 * The app every runtime serves (Bun.serve, Deno.serve, a workerd worker), driven by runtimes.test.ts:
 * - `POST /pay[?gate=ID]`: behind `withIdempotency` with a MemoryStore; counts its runs, and with a
 *   gate waits until `POST /open/ID` opens it (the test holds a request in flight without a sleep).
 * - `GET /runs`: how often the `/pay` handler ran.
 * - `POST /open/ID`: opens a gate.
 * - `POST /client` `{ url, body }`: calls `url` with @oncely/client's createFetch from inside the
 *   runtime and answers what it got: status, body, the replay header and the retry info.
 *
 * Gates are polled, not promises resolved from another request: workerd forbids a request from
 * settling a promise another request awaits.
 */
export function createApp(): (request: Request) => Promise<Response> {
  // Built lazily: a worker may not start timers or make random values in its global scope.
  let pay: ((request: Request) => Promise<Response>) | undefined;
  let runs = 0;
  const open = new Set<string>();

  const payHandler = async (request: Request): Promise<Response> => {
    runs += 1;
    const run = runs;
    const body = await request.text();
    const gate = new URL(request.url).searchParams.get('gate');
    if (gate !== null) await waitFor(() => open.has(gate), 10_000);
    return new Response(JSON.stringify({ run, body, note: 'héllo €' }), {
      status: 201,
      headers: { 'content-type': 'application/json; charset=utf-8', location: `/payments/${run}` },
    });
  };

  return async function runtimeApp(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === '/pay') {
      pay ??= withIdempotency(payHandler, {
        store: new MemoryStore(),
        scope: 'global',
        lease: LEASE_MS,
        // Under the lease, as the engine requires; the MemoryStore answers within a microtask.
        storeTimeout: 100,
      });
      return pay(request);
    }
    if (pathname === '/runs') return Response.json({ runs });
    if (pathname.startsWith('/open/')) {
      open.add(pathname.slice('/open/'.length));
      return new Response(null, { status: 204 });
    }
    if (pathname === '/client') return callOut((await request.json()) as ClientCall);
    return new Response('not found', { status: 404 });
  };
}

/** What `POST /client` is asked to do. */
export interface ClientCall {
  url: string;
  body: string;
}

/** What `POST /client` answers. */
export interface ClientResult {
  status: number;
  body: string;
  replayed: string | null;
  idempotencyKey: string | undefined;
  attempts: number | undefined;
  /** Why each retry happened, as the client classified it in this runtime. */
  reasons: readonly string[] | undefined;
  error?: string;
}

async function callOut({ url, body }: ClientCall): Promise<Response> {
  // Short delays: the test is about the key surviving the retries, not about the schedule.
  const oncelyFetch = createFetch({ retries: 3, baseDelay: 10, maxDelay: 50 });
  try {
    const response = await oncelyFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const info = getRetryInfo(response);
    const result: ClientResult = {
      status: response.status,
      body: await response.text(),
      replayed: response.headers.get('idempotent-replayed'),
      idempotencyKey: info?.idempotencyKey,
      attempts: info?.attempts,
      reasons: info?.reasons,
    };
    return Response.json(result);
  } catch (error) {
    const info = getRetryInfo(error);
    const result: ClientResult = {
      status: 0,
      body: '',
      replayed: null,
      idempotencyKey: info?.idempotencyKey,
      attempts: info?.attempts,
      reasons: info?.reasons,
      error: describe(error),
    };
    return Response.json(result);
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (cause: ${describe(error.cause)})` : '';
  const code = (error as { code?: unknown }).code;
  return `${error.name}${typeof code === 'string' ? ` ${code}` : ''}: ${error.message}${cause}`;
}

async function waitFor(condition: () => boolean, limitMs: number): Promise<void> {
  const until = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`gate not opened within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
