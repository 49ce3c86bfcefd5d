import { createFetch } from '@oncely/client';
import { withIdempotency } from '@oncely/client/axios';
import axios from 'axios';
import { nextMessage, spawnChild, stopChild } from '../children.js';
import { PAYMENT_PATH, PAYMENT_REQUEST_BODY } from '../server/payment.js';
import { median, spread } from '../stats.js';

export interface ClientSettings {
  runs: number;
  sequentialRequests: number;
  concurrentRequests: number;
  concurrency: number;
}

export const CLIENT_PAIRS = [
  { bare: 'fetch', wrapped: 'createFetch' },
  { bare: 'axios', wrapped: 'withIdempotency(axios)' },
] as const;
export type ClientName = (typeof CLIENT_PAIRS)[number]['bare'] | (typeof CLIENT_PAIRS)[number]['wrapped'];
export type Pattern = 'sequential' | 'concurrent';

export interface ClientRow {
  pattern: Pattern;
  bare: ClientName;
  wrapped: ClientName;
  bareRequestsPerSec: number;
  wrappedRequestsPerSec: number;
  bareSpread: number;
  wrappedSpread: number;
  /**
   * Extra time per request relative to bare: the median, over rounds, of bare req/s ÷ wrapped req/s
   * measured back to back in that round, minus 1.
   */
  overhead: number;
  /** Median client CPU µs per call, bare and wrapped. */
  bareCpuMicros: number;
  wrappedCpuMicros: number;
  /** Extra client CPU per call: wrapped ÷ bare − 1. */
  cpuOverhead: number;
}

type Send = () => Promise<void>;

function senders(port: number): Record<ClientName, Send> {
  const url = `http://127.0.0.1:${port}${PAYMENT_PATH}`;
  const order = JSON.parse(PAYMENT_REQUEST_BODY) as unknown;
  const headers = { 'content-type': 'application/json' };
  const oncelyFetch = createFetch();
  const bareAxios = axios.create({ baseURL: `http://127.0.0.1:${port}` });
  const oncelyAxios = withIdempotency(axios.create({ baseURL: `http://127.0.0.1:${port}` }));
  const check = (status: number): void => {
    if (status !== 201) throw new Error(`loopback server answered ${status}`);
  };
  return {
    fetch: async () => {
      const response = await fetch(url, { method: 'POST', headers, body: PAYMENT_REQUEST_BODY });
      await response.json();
      check(response.status);
    },
    createFetch: async () => {
      const response = await oncelyFetch(url, { method: 'POST', headers, body: PAYMENT_REQUEST_BODY });
      await response.json();
      check(response.status);
    },
    axios: async () => check((await bareAxios.post(PAYMENT_PATH, order)).status),
    'withIdempotency(axios)': async () => check((await oncelyAxios.post(PAYMENT_PATH, order)).status),
  };
}

interface Sample {
  requestsPerSec: number;
  /** CPU time (user + system) of this process per call: the client's own cost, loopback server excluded. */
  cpuMicrosPerRequest: number;
}

/** Throughput and client CPU per call of `count` calls, `concurrency` at a time. */
async function measure(send: Send, count: number, concurrency: number): Promise<Sample> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      await send();
    }
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  return { requestsPerSec: count / (elapsedMs / 1000), cpuMicrosPerRequest: (user + system) / count };
}

/**
 * Client wrappers against the bare clients they wrap, on a loopback server child with no faults (so no
 * retry ever happens: this is the cost of the happy path). Each round measures bare and wrapped back to
 * back, alternating which goes first; many short rounds beat few long ones on a shared machine.
 */
export async function runClientSuite(settings: ClientSettings): Promise<ClientRow[] | { skipped: string }> {
  const child = spawnChild('client/loopback-server.ts', []);
  try {
    const { port } = await nextMessage(child, 'ready', 30_000);
    const send = senders(port);
    for (const name of Object.keys(send) as ClientName[]) await measure(send[name], 500, 8);
    const rows: ClientRow[] = [];
    for (const pattern of ['sequential', 'concurrent'] as const) {
      const count = pattern === 'sequential' ? settings.sequentialRequests : settings.concurrentRequests;
      const concurrency = pattern === 'sequential' ? 1 : settings.concurrency;
      for (const pair of CLIENT_PAIRS) {
        const bare: Sample[] = [];
        const wrapped: Sample[] = [];
        for (let round = 0; round < settings.runs; round++) {
          // Alternate which goes first, so a slow moment of the machine does not always hit the same one.
          if (round % 2 === 0) {
            bare.push(await measure(send[pair.bare], count, concurrency));
            wrapped.push(await measure(send[pair.wrapped], count, concurrency));
          } else {
            wrapped.push(await measure(send[pair.wrapped], count, concurrency));
            bare.push(await measure(send[pair.bare], count, concurrency));
          }
        }
        const rps = (samples: Sample[]): number[] => samples.map((sample) => sample.requestsPerSec);
        const cpu = (samples: Sample[]): number[] => samples.map((sample) => sample.cpuMicrosPerRequest);
        rows.push({
          pattern,
          bare: pair.bare,
          wrapped: pair.wrapped,
          bareRequestsPerSec: median(rps(bare)),
          wrappedRequestsPerSec: median(rps(wrapped)),
          bareSpread: spread(rps(bare)),
          wrappedSpread: spread(rps(wrapped)),
          overhead: median(bare.map((b, i) => b.requestsPerSec / wrapped[i]!.requestsPerSec)) - 1,
          bareCpuMicros: median(cpu(bare)),
          wrappedCpuMicros: median(cpu(wrapped)),
          cpuOverhead: median(cpu(wrapped)) / median(cpu(bare)) - 1,
        });
      }
    }
    return rows;
  } catch (error) {
    return { skipped: `failed: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    await stopChild(child);
  }
}
