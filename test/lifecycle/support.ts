import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { IdempotencyStore } from '@oncely/server';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Listens on 127.0.0.1, port 0; `close` drops every connection first. */
export async function listen(server: Server): Promise<{ url: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `count` chunks of 1 KiB, `delayMs` apart: a download a client can leave in the middle. */
export function slowDownload(count: number, delayMs: number): Readable {
  return Readable.from(
    (async function* () {
      for (let i = 0; i < count; i++) {
        yield Buffer.alloc(1024, 0x61 + (i % 26));
        await sleep(delayMs);
      }
    })(),
  );
}

/** Starts a keyed POST, reads the first bytes of the answer, then leaves. */
export async function leaveMidDownload(url: string, key: string): Promise<void> {
  const controller = new AbortController();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'idempotency-key': key, 'content-type': 'application/json' },
    body: '{}',
    signal: controller.signal,
  });
  await response.body!.getReader().read();
  controller.abort();
}

/** Wraps a store and counts calls of `extend` (the heartbeat). */
export function countingExtends(inner: IdempotencyStore): IdempotencyStore & { extends: () => number } {
  let count = 0;
  return new Proxy(inner, {
    get(target, property) {
      if (property === 'extends') return () => count;
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== 'function') return value;
      const bound = (value as (...args: unknown[]) => unknown).bind(target);
      if (property !== 'extend') return bound;
      return (...args: unknown[]) => {
        count += 1;
        return bound(...args);
      };
    },
  }) as IdempotencyStore & { extends: () => number };
}
