import { abbreviateKey } from '@oncely/core';
import type { RateLimitedLog } from '@oncely/core';
import type { IdempotencyEvent, IdempotencyHooks } from '../engine/hooks.js';
import { describeCause } from './describe-cause.js';

/**
 * What the default logger writes: the events an operator must know about — store failures, fenced
 * results, takeovers — each kind once, then summed up per interval (see {@link RateLimitedLog}).
 * Never a body, a scope or a whole key. Every line is listed in docs/operating.md.
 */
export function logHooks(log: RateLimitedLog): IdempotencyHooks {
  return {
    onStoreFailure({ operation, error, failOpen, ...event }) {
      const cause = `Cause: ${describeCause(error)}.`;
      switch (operation) {
        case 'claim':
          if (failOpen) {
            log.report(
              'error',
              'store-unavailable-fail-open',
              `oncely: store unavailable: a key could not be claimed and onStoreError is 'fail-open', so the request ran unprotected (a retry of it may run it again). ${cause} ${where(event)}`,
            );
          } else {
            log.report(
              'warn',
              'store-unavailable',
              `oncely: store unavailable: a key could not be claimed, so requests with a key are answered 503 until the store works again. ${cause} ${where(event)}`,
            );
          }
          return;
        case 'complete':
          log.report(
            'error',
            'store-complete-failed',
            `oncely: a response could not be stored: its key stays in progress until the lease runs out, then a retry runs the request again. ${cause} ${where(event)}`,
          );
          return;
        case 'release':
          log.report(
            'warn',
            'store-release-failed',
            `oncely: a key could not be released after its request failed: retries are answered 409 until the lease runs out. ${cause} ${where(event)}`,
          );
          return;
        case 'extend':
          log.report(
            'warn',
            'store-extend-failed',
            `oncely: the lease of a running request could not be extended: if it runs past its lease, a retry may take over and run it again. ${cause} ${where(event)}`,
          );
          return;
        default:
          log.report(
            'warn',
            'store-transaction-failed',
            `oncely: a transactional store could not begin or commit a request's transaction, so it was answered 503. ${cause} ${where(event)}`,
          );
      }
    },
    onFenced({ operation, fencingToken, ...event }) {
      const token = `fencing token ${fencingToken}`;
      if (operation === 'complete') {
        log.report(
          'error',
          'fenced',
          `oncely: a request finished after another request took over its key (it ran past its lease): its response was not stored and its side effects may have happened twice. Raise \`lease\` or find why the handler took so long. ${where(event, token)}`,
        );
      } else {
        log.report(
          'warn',
          'fenced',
          `oncely: a request lost its key to a takeover while it ran past its lease (its ${operation} was refused); its result will not be stored. ${where(event, token)}`,
        );
      }
    },
    onTakeover({ fencingToken, ...event }) {
      log.report(
        'warn',
        'takeover',
        `oncely: a request took over a key whose lease had run out: the request holding it crashed, hung or ran past its lease, and this one runs it again. ${where(event, `fencing token ${fencingToken}`)}`,
      );
    },
  };
}

function where(event: IdempotencyEvent, extra?: string): string {
  const parts = `${event.method} ${event.path}, key ${abbreviateKey(event.idempotencyKey)}`;
  return `(${extra === undefined ? parts : `${parts}, ${extra}`})`;
}
