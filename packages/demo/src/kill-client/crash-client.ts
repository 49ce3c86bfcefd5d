/**
 * The demo's payments app in a process of its own, so the demo can kill it for real. It reads a
 * {@link CrashClientConfig} as JSON on stdin and prints one JSON line per event on stdout:
 * `{"paid":id}` as soon as a payment is confirmed, `{"failed":id,"error":…}`, `{"resumed":n}` and
 * `{"killing":id}` just before it kills itself with SIGKILL.
 */
import { createFetch } from '@oncely/client';
import { resumePending } from '@oncely/client/journal';
import { createFileJournal } from '@oncely/client/journal/file';
import type { Payment } from '../clients.js';

export interface CrashClientConfig {
  /** The fault proxy in front of the payments API. */
  url: string;
  /** The payments to make (the restarted app passes those it never saw confirmed). */
  payments: Payment[];
  concurrency: number;
  attemptTimeout: number;
  /** Journal directory; without one, no journal. */
  journalDir?: string;
  /**
   * Kill this process with SIGKILL at the first retry after a lost response (a network error: the
   * server charged, the answer never came) once this many payments are confirmed. Killing from inside
   * the retry hook lands between two attempts, which is what the demo shows.
   */
  killAfter?: number;
}

const print = (event: unknown): void => void process.stdout.write(`${JSON.stringify(event)}\n`);

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const config = JSON.parse(Buffer.concat(chunks).toString()) as CrashClientConfig;
  const confirmed = new Set<string>();
  const confirm = (paymentId: string): void => {
    confirmed.add(paymentId);
    print({ paid: paymentId });
  };
  const journal = config.journalDir === undefined ? undefined : createFileJournal(config.journalDir);
  // The same policy as the demo's @oncely/client scenario (clients.ts).
  const fetchOnce = createFetch({
    journal,
    retries: 5,
    baseDelay: 25,
    maxDelay: 1_000,
    attemptTimeout: config.attemptTimeout,
    bufferResponse: true,
    onRetry({ idempotencyKey, reason }) {
      if (config.killAfter === undefined || confirmed.size < config.killAfter) return;
      if (!reason.startsWith('network')) return;
      print({ killing: idempotencyKey });
      process.kill(process.pid, 'SIGKILL');
    },
  });

  if (journal !== undefined && config.killAfter === undefined) {
    // The restarted app: first what the journal holds, under the keys the killed process sent.
    const run = await resumePending(fetchOnce, {
      onSettle(outcome) {
        if ('response' in outcome && outcome.response.status === 201) confirm(outcome.entry.id);
      },
    });
    print({ resumed: run.operations.length });
    await run.settled;
  }

  const queue = config.payments.filter((payment) => !confirmed.has(payment.paymentId));
  async function worker(): Promise<void> {
    for (let payment = queue.shift(); payment !== undefined; payment = queue.shift()) {
      try {
        const response = await fetchOnce(`${config.url}/payments`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(payment),
          // The payment is the operation: a payment still pending in the journal keeps its key.
          operationId: payment.paymentId,
        });
        // Confirmed in the same tick the call settles: nothing can come between (see kill-client.ts).
        if (response.status === 201) confirm(payment.paymentId);
        else print({ failed: payment.paymentId, error: `status ${response.status}` });
      } catch (error) {
        print({ failed: payment.paymentId, error: String((error as Error).message ?? error) });
      }
    }
  }
  await Promise.all(Array.from({ length: config.concurrency }, () => worker()));
  await journal?.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`crash client failed: ${String(error)}\n`);
    process.exit(1);
  },
);
