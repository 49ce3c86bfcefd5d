/**
 * Produces one real response for each problem type, through Express and @oncely/server on a real
 * socket, so docs/server.md can be checked against what the server actually answers.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { ProblemType } from '@oncely/core';
import { MemoryStore } from '@oncely/server';
import { idempotency } from '@oncely/server/express';
import { createFailingStore } from '@oncely/server/testing';
import express from 'express';

export const EXAMPLE_KEY = '8e03978e-40d5-43e8-bc93-6894a57f9324';
export const REPORT_KEY = '01938a6e-7c2b-7d1e-9f4a-2b3c4d5e6f70';

export interface ProblemExample {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

async function serve(app: express.Express): Promise<{ url: string; server: Server }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function app(options: Partial<Parameters<typeof idempotency>[0]> = {}): express.Express {
  const a = express();
  a.use(idempotency({ store: new MemoryStore(), scope: 'global', ...options }));
  a.post('/payments', (_req, res) => void setTimeout(() => res.status(201).json({ ok: true }), 300));
  a.post('/reports', (_req, res) => void res.status(200).send('x'.repeat(2_000_000)));
  return a;
}

async function capture(response: Response): Promise<ProblemExample> {
  const headers: Record<string, string> = {};
  for (const name of ['content-type', 'retry-after', 'idempotent-replayed', 'x-should-retry']) {
    const value = response.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  return { status: response.status, headers, body: (await response.json()) as Record<string, unknown> };
}

/** One real answer per problem type, keyed by type URI. */
export async function collectProblemExamples(): Promise<Map<string, ProblemExample>> {
  const examples = new Map<string, ProblemExample>();
  const servers: Server[] = [];
  try {
    const main = await serve(app({ required: true }));
    servers.push(main.server);
    const post = (path: string, key: string | undefined, body = '{"amount":1999}') =>
      fetch(`${main.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(key === undefined ? {} : { 'idempotency-key': key }),
        },
        body,
      });
    examples.set(ProblemType.keyMissing, await capture(await post('/payments', undefined)));
    examples.set(ProblemType.keyInvalid, await capture(await post('/payments', 'x'.repeat(256))));
    const first = post('/payments', EXAMPLE_KEY);
    await new Promise((resolve) => setTimeout(resolve, 50));
    examples.set(ProblemType.requestInProgress, await capture(await post('/payments', EXAMPLE_KEY)));
    await (await first).text();
    examples.set(ProblemType.keyReused, await capture(await post('/payments', EXAMPLE_KEY, '{"amount":5}')));
    // Declared over the default maxRequestBytes (1 MiB): refused before the body is read.
    examples.set(
      ProblemType.requestTooLarge,
      await capture(await post('/payments', EXAMPLE_KEY, '{}'.padEnd(1_048_577))),
    );
    await (await post('/reports', REPORT_KEY, '{}')).text();
    examples.set(ProblemType.responseNotReplayable, await capture(await post('/reports', REPORT_KEY, '{}')));

    const down = await serve(app({ store: createFailingStore() }));
    servers.push(down.server);
    const unavailable = await fetch(`${down.url}/payments`, {
      method: 'POST',
      headers: { 'idempotency-key': EXAMPLE_KEY },
      body: '{}',
    });
    examples.set(ProblemType.storeUnavailable, await capture(unavailable));
  } finally {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }
  return examples;
}
