/**
 * A client app in its own Node process, for the crash tests: `pay` makes one payment (journaled when
 * a journal directory is given) and prints each retry as a JSON line; `resume` resumes the journal and
 * prints the outcomes. Usage: client-process.ts pay|resume <api-url> [journal-dir]
 */
import { createFetch } from '@oncely/client';
import { resumePending } from '@oncely/client/journal';
import { createFileJournal } from '@oncely/client/journal/file';

const [mode, api, dir] = process.argv.slice(2);
const journal = dir === undefined ? undefined : createFileJournal(dir);
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

if (mode === 'pay') {
  // A long backoff: the process is killed while it sleeps, between the first attempt and the second.
  const fetchOnce = createFetch({
    journal,
    retries: 3,
    baseDelay: 60_000,
    maxDelay: 60_000,
    jitter: 'none',
    onRetry: ({ idempotencyKey, delay, reason }) => print({ event: 'retry', idempotencyKey, delay, reason }),
  });
  const response = await fetchOnce(`${api}/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer token-of-the-first-run' },
    body: JSON.stringify({ orderId: 'ord_1', amount: 4200 }),
    operationId: 'ord_1',
  });
  print({ event: 'done', status: response.status, body: await response.text() });
} else if (mode === 'resume') {
  const fetchOnce = createFetch({ journal, retries: 3, baseDelay: 10 });
  const run = await resumePending(fetchOnce, {
    headers: () => ({ authorization: 'Bearer token-of-the-second-run' }),
  });
  const outcomes = await run.settled;
  print(
    await Promise.all(
      outcomes.map(async (outcome) => ({
        id: outcome.entry.id,
        idempotencyKey: outcome.entry.idempotencyKey,
        pending: outcome.pending,
        ...('response' in outcome
          ? {
              status: outcome.response.status,
              replayed: outcome.response.headers.get('idempotent-replayed'),
              body: await outcome.response.text(),
            }
          : { error: String(outcome.error) }),
      })),
    ),
  );
  await journal?.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}
