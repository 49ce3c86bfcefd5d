/**
 * The journal's promise across a real crash: a Node client process is killed with SIGKILL while it
 * sleeps between attempts (the server charged, the response was lost), a new process resumes the
 * journal, and the real `@oncely/server` ran the payment once. Without the journal, the restarted
 * client has no key to resume with: it pays again under a new key and the server charges twice.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DropProxy, startDropProxy } from './drop-proxy.js';
import { type PaymentsServer, startPaymentsServer } from './payments-server.js';

const CLIENT = fileURLToPath(new URL('./client-process.ts', import.meta.url));
const NODE_ARGS = ['--conditions=@oncely/source', '--import', 'tsx', CLIENT];

let api: PaymentsServer;
let proxy: DropProxy;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  api = await startPaymentsServer();
});
afterAll(() => api.close());
beforeEach(async () => {
  api.charges.length = 0;
  proxy = await startDropProxy(api.url);
  dir = mkdtempSync(join(tmpdir(), 'oncely-crash-'));
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await proxy.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `pay`, waits until it sleeps before its second attempt, and kills it with SIGKILL. */
async function payAndKillInBackoff(journalDir: string | undefined): Promise<{ retry: { delay: number } }> {
  const child = spawn(
    process.execPath,
    [...NODE_ARGS, 'pay', proxy.url, ...(journalDir ? [journalDir] : [])],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  const retry = await new Promise<{ delay: number }>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout
        .split('\n')
        .slice(0, -1) // complete lines only
        .find((l) => l.includes('"retry"'));
      if (line !== undefined) resolve(JSON.parse(line) as { delay: number });
    });
    void exited.then(() => reject(new Error(`the client exited before retrying: ${stdout} ${stderr}`)));
  });
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  return { retry };
}

function journalEntries(journalDir: string): Record<string, unknown>[] {
  return readdirSync(journalDir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(join(journalDir, name), 'utf8')) as Record<string, unknown>);
}

describe('a journaled client killed with SIGKILL between attempts', () => {
  it('restarted, resumePending re-sends the payment under its original key: the server ran it once', async () => {
    proxy.dropNext(1);
    const { retry } = await payAndKillInBackoff(dir);
    expect(retry.delay).toBe(60_000);
    expect(api.charges).toHaveLength(1);
    const key = proxy.seen[0]!.key!;
    // What the killed process left on disk: the operation, its key, no credentials.
    expect(journalEntries(dir)).toEqual([
      {
        id: 'ord_1',
        idempotencyKey: key,
        method: 'POST',
        url: `${proxy.url}/payments`,
        headers: { 'content-type': 'application/json' },
        body: { text: '{"orderId":"ord_1","amount":4200}' },
        createdAt: expect.any(Number),
      },
    ]);

    const { stdout } = await promisify(execFile)(process.execPath, [...NODE_ARGS, 'resume', proxy.url, dir], {
      timeout: 20_000,
    });
    const firstAnswer = proxy.answers[0]!;
    expect(JSON.parse(stdout)).toEqual([
      {
        id: 'ord_1',
        idempotencyKey: key,
        pending: false,
        status: 201,
        replayed: 'true',
        body: firstAnswer.body,
      },
    ]);
    expect(api.charges).toEqual([{ chargeId: 'ch_1', orderId: 'ord_1', key }]);
    expect(proxy.seen.map((r) => [r.key, r.body])).toEqual([
      [key, '{"orderId":"ord_1","amount":4200}'],
      [key, '{"orderId":"ord_1","amount":4200}'],
    ]);
    expect(proxy.seen.map((r) => r.headers.authorization)).toEqual([
      'Bearer token-of-the-first-run',
      'Bearer token-of-the-second-run',
    ]);
    expect(proxy.answers.map((a) => [a.status, a.replayed, a.dropped])).toEqual([
      [201, false, true],
      [201, true, false],
    ]);
    expect(journalEntries(dir)).toEqual([]);
  }, 60_000);

  it('without the journal, the restarted client pays under a new key and the server charges twice', async () => {
    proxy.dropNext(1);
    await payAndKillInBackoff(undefined);
    expect(api.charges).toHaveLength(1);
    // The restarted app never heard back, so it pays the order again: nothing tells it the old key.
    const { stdout } = await promisify(execFile)(process.execPath, [...NODE_ARGS, 'pay', proxy.url], {
      timeout: 20_000,
    });
    expect(JSON.parse(stdout.trim())).toMatchObject({ event: 'done', status: 201 });
    expect(api.charges).toHaveLength(2);
    expect(api.charges[1]!.key).not.toBe(api.charges[0]!.key);
  }, 60_000);
});
