import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type FaultKind, type FaultRates, FAULT_KINDS, pickFault, validateRates } from './faults.js';
import { requestRandom } from './random.js';

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Upstream base URLs (`http://127.0.0.1:port`); requests go round-robin across them. */
  targets: readonly string[];
  /** Seed of the fault choices: same seed, same faults for the same requests. @default 1 */
  seed?: number;
  /** Fault probabilities per request. @default {} (no faults) */
  rates?: FaultRates;
  /** How long `delay` holds a request, in ms. @default 1500 */
  delayMs?: number;
  /** How many requests a 503 burst answers. @default 5 */
  burstLength?: number;
  /** `Retry-After` of the 503s, in seconds. @default 1 */
  retryAfterSeconds?: number;
}

/** What the proxy did, counted. */
export interface FaultStats {
  requests: number;
  forwarded: number;
  faults: Record<FaultKind, number>;
}

export interface FaultProxy {
  /** Base URL clients should use. */
  readonly url: string;
  readonly stats: FaultStats;
  close(): Promise<void>;
}

/**
 * Starts an HTTP proxy on 127.0.0.1 (port chosen by the OS) that forwards to `targets` and injects
 * seeded faults: lost responses after the upstream applied the request, resets, delays, duplicates,
 * slow bodies and 503 bursts.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const { targets, seed = 1, rates = {}, delayMs = 1500, burstLength = 5, retryAfterSeconds = 1 } = options;
  if (targets.length === 0) throw new Error('startFaultProxy needs at least one target.');
  validateRates(rates);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const seen = new Map<string, number>();
  const stats: FaultStats = {
    requests: 0,
    forwarded: 0,
    faults: Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>,
  };
  let burstLeft = 0;
  let nextTarget = 0;

  const server = http.createServer(function handleProxyRequest(req, res) {
    stats.requests++;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const identity = `${req.method} ${req.url} ${createHash('sha256').update(body).digest('hex')}`;
      const occurrence = seen.get(identity) ?? 0;
      seen.set(identity, occurrence + 1);
      let fault = pickFault(rates, requestRandom(seed, identity, occurrence)());
      if (burstLeft > 0) {
        burstLeft--;
        fault = 'burst503';
      } else if (fault === 'burst503') {
        burstLeft = burstLength - 1;
      }
      if (fault !== undefined) stats.faults[fault]++;
      const target = targets[nextTarget++ % targets.length]!;
      void serve(req, res, body, target, fault);
    });
  });

  async function serve(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
    target: string,
    fault: FaultKind | undefined,
  ): Promise<void> {
    try {
      if (fault === 'resetRequest') return void req.socket.destroy();
      if (fault === 'burst503') {
        res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': String(retryAfterSeconds) });
        return void res.end('injected 503');
      }
      if (fault === 'delay') await sleep(delayMs);
      if (fault === 'duplicate') void forward(req, body, target).catch(() => undefined);
      const upstream = await forward(req, body, target);
      if (fault === 'dropResponse') return void req.socket.destroy();
      const headers = { ...upstream.headers, 'content-length': String(upstream.body.length) };
      delete headers['transfer-encoding'];
      delete headers.connection;
      res.writeHead(upstream.status, headers);
      if (fault === 'resetResponse') {
        res.write(upstream.body.subarray(0, Math.floor(upstream.body.length / 2)));
        return void setImmediate(() => req.socket.destroy());
      }
      if (fault === 'slowBody') {
        for (let i = 0; i < upstream.body.length; i += 16) {
          if (res.destroyed) return;
          res.write(upstream.body.subarray(i, i + 16));
          await sleep(5);
        }
        return void res.end();
      }
      res.end(upstream.body);
    } catch {
      // The upstream is down or reset us: a gateway error, as a real proxy would answer.
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('upstream unavailable');
      } else {
        res.destroy();
      }
    }
  }

  function forward(
    req: http.IncomingMessage,
    body: Buffer,
    target: string,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    stats.forwarded++;
    const headers = { ...req.headers, 'content-length': String(body.length) };
    delete headers['transfer-encoding'];
    delete headers.connection;
    return new Promise((resolve, reject) => {
      const upstream = http.request(
        new URL(req.url ?? '/', target),
        { method: req.method, headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
