import { abbreviateKey } from '@oncely/core';
import type { OncelyLogger } from '@oncely/core';
import { rateLimitedLog } from '@oncely/core';
import { ClientErrorCode, isOncelyClientError } from '../errors.js';
import type { GiveUpEvent } from '../options.js';

/**
 * The client's default logging: a warning only where a developer must act — the retry budget ran out
 * (an outage, and calls now fail fast), a stream body could not be retried (it needs a body factory),
 * a key was reused with a different request (422). Nothing for ordinary failures (the caller gets
 * them), nothing for an abort. Each kind once, then summed up per minute. Never a body or whole key.
 */
export function giveUpLog(logger: OncelyLogger): (event: GiveUpEvent) => void {
  const log = rateLimitedLog(logger);
  return function logGiveUp(event: GiveUpEvent): void {
    const key = event.idempotencyKey === undefined ? 'no key' : `key ${abbreviateKey(event.idempotencyKey)}`;
    if (isOncelyClientError(event.error, ClientErrorCode.budgetExhausted)) {
      log.report(
        'warn',
        'retry-budget-exhausted',
        `oncely: retry budget exhausted: calls fail fast without retrying until enough of them succeed again; the server or network has been failing. (${key})`,
      );
    } else if (isOncelyClientError(event.error, ClientErrorCode.bodyNotReplayable)) {
      log.report(
        'warn',
        'body-not-replayable',
        `oncely: a failed request was not retried because its body is a stream that was already sent; pass a body factory (\`body: () => stream\`) to make it retryable. (${key})`,
      );
    } else if (event.reason === 'idempotency key reused') {
      log.report(
        'warn',
        'key-reused',
        `oncely: the server refused an idempotency key reused with a different request (422): use one key per logical operation, and the same method, URL and body on each of its retries. (${key})`,
      );
    }
  };
}
