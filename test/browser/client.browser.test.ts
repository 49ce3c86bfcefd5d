/**
 * @oncely/client in a real browser: the client's ESM source, bundled by esbuild into one file, runs in
 * headless Chromium (Debian's `chromium`, driven by playwright-core) against an API on another origin
 * that answers with CORS headers, and keeps one key across a 503-then-200 retry.
 */
import { existsSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type * as Oncely from '@oncely/client';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && !process.env.CI) {
  console.warn(
    `[browser test] skipped: ${CHROMIUM} is missing (apt-get install -y chromium). CI fails instead.`,
  );
}

type OncelyClient = typeof Oncely;

interface Attempt {
  method: string;
  path: string;
  key: string | undefined;
  body: string;
}

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<[Server, string]> {
  const server = createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve([server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`]),
    ),
  );
}

const close = (server: Server | undefined): Promise<void> =>
  new Promise((resolve) => {
    if (server === undefined) return resolve();
    server.closeAllConnections();
    server.close(() => resolve());
  });

describe.skipIf(!available && !process.env.CI)('@oncely/client in headless Chromium', () => {
  let browser: Browser | undefined;
  let pageServer: Server | undefined;
  let apiServer: Server | undefined;
  let pageOrigin = '';
  let apiOrigin = '';
  const attempts: Attempt[] = [];
  let served = 0;

  beforeAll(async () => {
    if (!available)
      throw new Error(`${CHROMIUM} is missing and CI is set: install the Debian package \`chromium\`.`);
    // The published ESM build when it exists (CI builds before testing), else the source.
    const dist = fileURLToPath(new URL('../../packages/client/dist/index.js', import.meta.url));
    const useDist = existsSync(dist);
    console.log(`[browser test] bundling the client's ${useDist ? 'ESM build (dist/index.js)' : 'source'}`);
    const bundle = await build({
      entryPoints: [
        useDist ? dist : fileURLToPath(new URL('../../packages/client/src/index.ts', import.meta.url)),
      ],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      conditions: useDist ? [] : ['@oncely/source'],
      write: false,
    });
    const code = bundle.outputFiles[0]!.text;
    expect(code).not.toMatch(/from\s*["']node:/);

    [pageServer, pageOrigin] = await listen((req, res) => {
      if (req.url === '/worker.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        res.end(
          'import { createFetch, getRetryInfo } from "/client.js";\n' +
            'self.onmessage = async ({ data: api }) => {\n' +
            '  const fetch = createFetch({ baseDelay: 5 });\n' +
            '  const response = await fetch(api + "/worker-payments", { method: "POST", body: "from a worker" });\n' +
            '  self.postMessage({ status: response.status, info: getRetryInfo(response) });\n' +
            '};',
        );
        return;
      }
      if (req.url === '/client.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        res.end(code);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        '<!doctype html><title>oncely</title>' +
          '<script type="module">import * as oncely from "/client.js"; window.oncely = oncely;</script>',
      );
    });

    const cors = {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': 'idempotency-key, content-type',
      'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE',
      // Without this the browser hides Retry-After from the client (not a CORS-safelisted header).
      'access-control-expose-headers': 'retry-after, retry-after-ms, idempotent-replayed',
    };
    [apiServer, apiOrigin] = await listen((req, res) => {
      if (req.method === 'OPTIONS') {
        res.writeHead(204, cors);
        res.end();
        return;
      }
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const key = req.headers['idempotency-key'];
        if (req.url === '/worker-payments') {
          attempts.push({ method: req.method!, path: req.url, key: Array.isArray(key) ? key[0] : key, body });
          const first = attempts.filter((a) => a.path === '/worker-payments').length === 1;
          res.writeHead(first ? 503 : 201, { ...cors, 'retry-after-ms': '10' });
          res.end();
          return;
        }
        if (req.url === '/moved') {
          attempts.push({ method: req.method!, path: req.url, key: Array.isArray(key) ? key[0] : key, body });
          res.writeHead(307, { ...cors, location: '/moved-here' });
          res.end();
          return;
        }
        if (req.url === '/moved-here') {
          attempts.push({ method: req.method!, path: req.url, key: Array.isArray(key) ? key[0] : key, body });
          res.writeHead(201, { ...cors, 'content-type': 'application/json' });
          res.end('{"id":"pay_moved"}');
          return;
        }
        if (req.url === '/busy') {
          res.writeHead(503, { ...cors, 'retry-after': '10' });
          res.end();
          return;
        }
        attempts.push({ method: req.method!, path: req.url!, key: Array.isArray(key) ? key[0] : key, body });
        if (served++ === 0) {
          res.writeHead(503, { ...cors, 'content-type': 'application/json', 'retry-after-ms': '40' });
          res.end('{"error":"busy"}');
          return;
        }
        res.writeHead(201, { ...cors, 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'pay_1', key }));
      });
    });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await close(pageServer);
    await close(apiServer);
  });

  it('keeps one key across a 503-then-201 retry, honouring the exposed Retry-After', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${pageOrigin}/`);
    await page.waitForFunction(() => 'oncely' in window);
    const result = await page.evaluate(async (api) => {
      // Loaded by the page as an ES module (see the HTML above), not by the test runner.
      const { createFetch, getRetryInfo } = (window as unknown as { oncely: OncelyClient }).oncely;
      const retries: { attempt: number; delay: number; reason: string }[] = [];
      const fetch = createFetch({
        baseDelay: 5,
        onRetry: ({ attempt, delay, reason }) => retries.push({ attempt, delay, reason }),
      });
      const response = await fetch(`${api}/payments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ amount: 1000 }),
      });
      return {
        status: response.status,
        body: (await response.json()) as { id: string; key: string },
        info: getRetryInfo(response),
        retries,
        userAgent: navigator.userAgent,
      };
    }, apiOrigin);

    expect(errors).toEqual([]);
    expect(result.userAgent).toMatch(/HeadlessChrome|Chrome/);
    expect(result.status).toBe(201);
    const posts = attempts.filter((a) => a.method === 'POST');
    expect(posts).toHaveLength(2);
    expect(posts[0]!.key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(posts[1]!.key).toBe(posts[0]!.key);
    expect(posts.map((p) => p.body)).toEqual(['{"amount":1000}', '{"amount":1000}']);
    expect(result.body).toEqual({ id: 'pay_1', key: posts[0]!.key });
    expect(result.info).toEqual({
      idempotencyKey: posts[0]!.key,
      attempts: 2,
      totalDelay: 40,
      delays: [40],
      reasons: ['status 503'],
    });
    expect(result.retries).toEqual([{ attempt: 1, delay: 40, reason: 'status 503' }]);
    await page.close();
  });

  it('an abort during a 10 s backoff settles within milliseconds with signal.reason', async () => {
    const page = await browser!.newPage();
    await page.goto(`${pageOrigin}/`);
    await page.waitForFunction(() => 'oncely' in window);
    const result = await page.evaluate(async (api) => {
      const { createFetch } = (window as unknown as { oncely: OncelyClient }).oncely;
      const controller = new AbortController();
      const fetch = createFetch({ onRetry: () => setTimeout(() => controller.abort('navigated away'), 20) });
      const started = performance.now();
      const outcome = await fetch(`${api}/busy`, {
        method: 'POST',
        body: 'x',
        signal: controller.signal,
      }).then(
        () => 'resolved',
        (reason: unknown) => reason,
      );
      return { outcome, elapsed: performance.now() - started };
    }, apiOrigin);
    expect(result.outcome).toBe('navigated away');
    expect(result.elapsed).toBeLessThan(1000);
    await page.close();
  });

  it('a keyed POST redirected by a 307: the browser follows it (a page cannot), one attempt', async () => {
    const page = await browser!.newPage();
    await page.goto(`${pageOrigin}/`);
    await page.waitForFunction(() => 'oncely' in window);
    const result = await page.evaluate(async (api) => {
      const { createFetch, getRetryInfo } = (window as unknown as { oncely: OncelyClient }).oncely;
      const response = await createFetch()(`${api}/moved`, { method: 'POST', body: 'moved body' });
      return {
        status: response.status,
        redirected: response.redirected,
        body: await response.text(),
        info: getRetryInfo(response),
      };
    }, apiOrigin);
    expect(result).toMatchObject({ status: 201, redirected: true, body: '{"id":"pay_moved"}' });
    expect(result.info).toMatchObject({ attempts: 1 });
    const key = result.info!.idempotencyKey;
    expect(
      attempts.filter((a) => a.path.startsWith('/moved')).map((a) => [a.method, a.path, a.key, a.body]),
    ).toEqual([
      ['POST', '/moved', key, 'moved body'],
      ['POST', '/moved-here', key, 'moved body'],
    ]);
    await page.close();
  });

  it('runs in a Web Worker and keeps one key across a retry there', async () => {
    const page = await browser!.newPage();
    await page.goto(`${pageOrigin}/`);
    const result = await page.evaluate(
      (api) =>
        new Promise<{ status: number; info: { idempotencyKey: string; attempts: number } }>(
          (resolve, reject) => {
            const worker = new Worker('/worker.js', { type: 'module' });
            worker.onmessage = ({ data }) => resolve(data as never);
            worker.onerror = (event) => reject(new Error(event.message));
            worker.postMessage(api);
          },
        ),
      apiOrigin,
    );
    const seen = attempts.filter((a) => a.path === '/worker-payments');
    expect(result.status).toBe(201);
    expect(seen.map((a) => [a.key, a.body])).toEqual([
      [result.info.idempotencyKey, 'from a worker'],
      [result.info.idempotencyKey, 'from a worker'],
    ]);
    expect(result.info.attempts).toBe(2);
    await page.close();
  });
});
