/**
 * The journal in a real browser: the client and `@oncely/client/journal` (ESM source or build, bundled
 * by esbuild) run in headless Chromium against the real `@oncely/server` (node adapter, MemoryStore)
 * behind a proxy on another origin that can lose responses. A page pays, loses the response, goes
 * offline in its backoff, is reloaded offline (its files come from Playwright's router), comes back
 * online, and `resumeWhenOnline` re-sends the payment from IndexedDB under its original key: one charge.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type * as OncelyJournal from '@oncely/client/journal';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DropProxy, startDropProxy } from '../journal/drop-proxy.js';
import { type PaymentsServer, startPaymentsServer } from '../journal/payments-server.js';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
/** Never listened on: Playwright's router serves this origin, so the page loads offline too. */
const PAGE_ORIGIN = 'http://127.0.0.1:9';

const PAGE = `<!doctype html><title>journal</title>
<script type="module">
  import * as oncely from '/client.js';
  const journal = oncely.createIndexedDbJournal({ name: 'oncely-journal-test' });
  window.retries = [];
  window.resumed = [];
  window.journal = journal;
  window.oncely = oncely;
  // A long backoff: the page goes offline and is reloaded while it sleeps before its second attempt.
  window.fetchOnce = oncely.createFetch({
    journal, retries: 3, baseDelay: 60000, maxDelay: 60000, jitter: 'none',
    onRetry: ({ reason }) => window.retries.push(reason),
  });
  oncely.resumeWhenOnline(window.fetchOnce, {
    headers: () => ({ authorization: 'Bearer fresh-after-reload' }),
    onSettle: (outcome) => window.resumed.push({
      id: outcome.entry.id,
      idempotencyKey: outcome.entry.idempotencyKey,
      pending: outcome.pending,
      status: outcome.response?.status,
      replayed: outcome.response?.headers.get('idempotent-replayed'),
      error: outcome.error === undefined ? undefined : String(outcome.error),
    }),
  });
  window.ready = true;
</script>`;

const WORKER = `import * as oncely from '/client.js';
self.onmessage = async ({ data: api }) => {
  const journal = oncely.createIndexedDbJournal({ name: 'oncely-worker-journal' });
  const fetchOnce = oncely.createFetch({ journal, retries: 0 });
  const first = await fetchOnce(api + '/payments', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"orderId":"ord_w"}',
  }).then((r) => r.status, (e) => e.code);
  const pendingAfterLoss = (await journal.list()).length;
  const run = await oncely.resumePending(fetchOnce);
  const [outcome] = await run.settled;
  self.postMessage({ first, pendingAfterLoss, resumed: outcome.response.status, left: (await journal.list()).length });
};`;

interface Resumed {
  id: string;
  idempotencyKey: string;
  pending: boolean;
  status?: number;
  replayed?: string | null;
  error?: string;
}

describe.skipIf(!available && !process.env.CI)('the journal in headless Chromium (IndexedDB)', () => {
  let browser: Browser | undefined;
  let code = '';
  let api: PaymentsServer;
  let proxy: DropProxy;
  let context: BrowserContext;

  beforeAll(async () => {
    if (!available)
      throw new Error(`${CHROMIUM} is missing and CI is set: install the Debian package \`chromium\`.`);
    const dist = fileURLToPath(new URL('../../packages/client/dist/journal/index.js', import.meta.url));
    const useDist = existsSync(dist);
    const bundle = await build({
      stdin: {
        contents: "export * from '@oncely/client'; export * from '@oncely/client/journal';",
        resolveDir: fileURLToPath(new URL('.', import.meta.url)),
        loader: 'ts',
      },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      conditions: useDist ? [] : ['@oncely/source'],
      write: false,
    });
    code = bundle.outputFiles[0]!.text;
    api = await startPaymentsServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  beforeEach(async () => {
    api.charges.length = 0;
    proxy = await startDropProxy(api.url, { cors: true });
    // The page comes from Playwright's router (no address), the API from 127.0.0.1: Chromium asks the
    // user before a page reaches a loopback address (Local Network Access); the test is that user.
    context = await browser!.newContext({ permissions: ['local-network-access'] });
    await context.route(`${PAGE_ORIGIN}/**`, (route) => {
      const path = new URL(route.request().url()).pathname;
      const [contentType, body] =
        path === '/client.js'
          ? ['text/javascript', code]
          : path === '/worker.js'
            ? ['text/javascript', WORKER]
            : ['text/html', PAGE];
      return route.fulfill({ status: 200, contentType, body });
    });
  });

  afterEach(async () => {
    await context.close();
    await proxy.close();
  });

  async function open(page: Page): Promise<string[]> {
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${PAGE_ORIGIN}/`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    return errors;
  }

  it('the bundle of the client and its journal carries no Node module', () => {
    expect(code).toContain('createIndexedDbJournal');
    expect(code).not.toMatch(/from\s*["']node:|require\(["']node:/);
  });

  it('offline after the first attempt, reloaded, back online: resumed from IndexedDB, one charge', async () => {
    const page = await context.newPage();
    const errors = await open(page);
    proxy.dropNext(1);
    await page.evaluate((url) => {
      const w = window as unknown as { fetchOnce: typeof fetch; call: Promise<unknown> };
      w.call = w.fetchOnce(`${url}/payments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer first-page' },
        body: '{"orderId":"ord_b","amount":1500}',
        operationId: 'ord_b',
      } as RequestInit);
    }, proxy.url);
    // The server charged, the response was lost, and the page sleeps before its second attempt.
    await page.waitForFunction(() => (window as unknown as { retries: string[] }).retries.length === 1);
    expect(api.charges).toHaveLength(1);
    const key = proxy.seen[0]!.key!;

    await context.setOffline(true);
    expect(await page.evaluate(() => navigator.onLine)).toBe(false);
    await page.reload();
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    const pending = await page.evaluate(() =>
      (window as unknown as { journal: { list(): Promise<unknown[]> } }).journal.list(),
    );
    expect(pending).toEqual([
      {
        id: 'ord_b',
        idempotencyKey: key,
        method: 'POST',
        url: `${proxy.url}/payments`,
        headers: { 'content-type': 'application/json' },
        body: { text: '{"orderId":"ord_b","amount":1500}' },
        createdAt: expect.any(Number),
      },
    ]);
    // Offline after the reload: nothing is re-sent yet.
    expect(await page.evaluate(() => (window as unknown as { resumed: Resumed[] }).resumed)).toEqual([]);
    expect(proxy.seen).toHaveLength(1);

    await context.setOffline(false);
    await page.waitForFunction(() => (window as unknown as { resumed: Resumed[] }).resumed.length === 1);
    expect(await page.evaluate(() => (window as unknown as { resumed: Resumed[] }).resumed)).toEqual([
      { id: 'ord_b', idempotencyKey: key, pending: false, status: 201, replayed: 'true' },
    ]);
    expect(api.charges).toEqual([{ chargeId: 'ch_1', orderId: 'ord_b', key }]);
    expect(proxy.seen.map((r) => [r.key, r.body, r.headers.authorization])).toEqual([
      [key, '{"orderId":"ord_b","amount":1500}', 'Bearer first-page'],
      [key, '{"orderId":"ord_b","amount":1500}', 'Bearer fresh-after-reload'],
    ]);
    expect(
      await page.evaluate(() =>
        (window as unknown as { journal: { list(): Promise<unknown[]> } }).journal.list(),
      ),
    ).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('the IndexedDB journal keeps the backend contract', async () => {
    const page = await context.newPage();
    await open(page);
    const result = await page.evaluate(async () => {
      const { createIndexedDbJournal } = (window as unknown as { oncely: typeof OncelyJournal }).oncely;
      const journal = createIndexedDbJournal({ name: 'oncely-contract' });
      const entry = (id: string, key: string) => ({
        id,
        idempotencyKey: key,
        method: 'POST',
        url: 'https://api.example.com/x',
        headers: { 'content-type': 'text/plain' },
        body: { base64: 'AP8K' },
        createdAt: 1,
      });
      const first = await journal.record(entry('a', 'key-a'));
      const concurrent = await Promise.all([1, 2, 3].map((i) => journal.record(entry('b', `key-b${i}`))));
      const again = await journal.record(entry('a', 'key-other'));
      await journal.remove('a', 'wrong-key');
      const afterWrongRemove = (await journal.list()).map((e) => e.id).sort();
      await journal.remove('a', 'key-a');
      const left = await journal.list();
      return {
        first,
        concurrentKeys: concurrent.map((e) => e.idempotencyKey),
        again,
        afterWrongRemove,
        left,
      };
    });
    expect(result.first.idempotencyKey).toBe('key-a');
    expect(new Set(result.concurrentKeys).size).toBe(1);
    expect(result.again.idempotencyKey).toBe('key-a');
    expect(result.afterWrongRemove).toEqual(['a', 'b']);
    expect(result.left.map((e) => [e.id, e.idempotencyKey, e.body])).toEqual([
      ['b', result.concurrentKeys[0], { base64: 'AP8K' }],
    ]);
  });

  it('journals and resumes inside a Web Worker (no window API on the path)', async () => {
    const page = await context.newPage();
    await open(page);
    proxy.dropNext(1);
    const result = await page.evaluate(
      (url) =>
        new Promise<Record<string, unknown>>((resolve, reject) => {
          const worker = new Worker('/worker.js', { type: 'module' });
          worker.onmessage = ({ data }) => resolve(data as Record<string, unknown>);
          worker.onerror = (event) => reject(new Error(event.message));
          worker.postMessage(url);
        }),
      proxy.url,
    );
    expect(result).toEqual({
      first: 'ERR_ONCELY_REQUEST_FAILED',
      pendingAfterLoss: 1,
      resumed: 201,
      left: 0,
    });
    expect(api.charges).toHaveLength(1);
    expect(new Set(proxy.seen.map((r) => r.key)).size).toBe(1);
    expect(proxy.answers.map((a) => [a.status, a.replayed, a.dropped])).toEqual([
      [201, false, true],
      [201, true, false],
    ]);
  });
});
