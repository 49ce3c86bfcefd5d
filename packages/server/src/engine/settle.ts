import { RELEASED_STATUSES } from './decide.js';
import type { StoreDecision } from './should-store.js';

/** What is known of the handler: untracked (its end cannot be seen), running, or how it ended. */
export type HandlerState = 'untracked' | 'running' | 'returned' | 'threw';

/** Everything the settlement of a claim depends on. */
export interface ExecutionFacts {
  /** How the response stands: still being written, ended by `end()`, or closed without it. */
  response: 'open' | 'ended' | 'closed';
  /** The head (status, headers) was sent. */
  committed: boolean;
  status: number;
  /** Why the body is not kept, if it is not. */
  notReplayable: 'oversize' | 'stream' | 'incomplete' | 'declined' | undefined;
  /** What the app's `shouldStore` decided for this response; `undefined`: the default rules. */
  decision: StoreDecision | undefined;
  handler: HandlerState;
  /** A timeout middleware marked the request: its answer went out while the handler may still run. */
  timedOut: boolean;
  transactional: boolean;
  replayServerErrors: boolean;
}

/**
 * What to do with the claim now:
 * - `wait`: nothing yet (the response or the handler is still going);
 * - `complete`: keep the response (`cut`: its body is not replayable, the response did not reach its end);
 * - `release`: free the key so a retry runs again (the handler is done and nothing worth keeping went out);
 * - `hold`: stop extending the lease and let it run out, because the handler may still run and its end
 *   cannot be seen (in transactional mode the transaction is rolled back instead, returning its connection).
 */
export type Step = 'wait' | 'complete' | 'cut' | 'release' | 'hold';

/**
 * The settlement rules, in one place (DESIGN "Server"): a response that ended is kept or released by
 * its status; one that closed first is kept as not replayable when it had committed a status worth
 * keeping, and released otherwise. A release never happens while the handler may still run: after a
 * timeout middleware's answer, or a connection closed before any answer, the claim waits for the
 * handler's end where the adapter sees it, and is held until its lease runs out where it does not.
 */
export function nextStep(facts: ExecutionFacts): Step {
  const keep =
    facts.committed &&
    (facts.decision === undefined
      ? !isReleasedStatus(facts.status, facts.replayServerErrors)
      : facts.decision !== 'release');
  const handlerDone = facts.handler === 'returned' || facts.handler === 'threw';
  switch (facts.response) {
    case 'open':
      // An event stream may never end, and an oversize or declined body will not be kept whatever
      // follows: settle now (not in transactional mode, whose commit must wait for the handler's last write).
      if (keep && facts.notReplayable === 'stream') return 'complete';
      if (keep && facts.notReplayable !== undefined && !facts.transactional) return 'complete';
      // The handler failed before anything went out: release (the framework answers its error).
      if (facts.handler === 'threw' && !facts.committed) return 'release';
      return 'wait';
    case 'ended':
      if (keep) return 'complete';
      // The handler's own answer (or its error's): it is done with the request.
      if (!facts.timedOut) return 'release';
      // A timeout answered while the handler ran: never release before the handler is known done.
      if (facts.handler === 'untracked') return 'hold';
      if (!handlerDone) return 'wait';
      // The handler then ended: its effect may have happened (a handler that writes its late answer
      // throws "headers already sent"), and its answer was lost, so a retry must not run it again.
      return 'cut';
    case 'closed':
      if (keep) return 'cut';
      if (facts.handler === 'untracked') return 'hold';
      return handlerDone ? 'release' : 'wait';
  }
}

/** Statuses that say "not done": released so a retry runs again (5xx unless `replayServerErrors`). */
export function isReleasedStatus(status: number, replayServerErrors: boolean): boolean {
  return RELEASED_STATUSES.has(status) || (status >= 500 && !replayServerErrors);
}
