import type { ServerResponse } from 'node:http';
import type { TransactionalExecution } from '../../engine/types.js';
import { holdResponse } from './hold-response.js';

/**
 * Transactional mode on node responses (Express, node:http): runs `invoke` (the handler) inside the
 * store's transaction with the whole response held, then sends it or the engine's replacement.
 * Rejects with the handler's error (thrown, or rejected from `invoke`) after `res` was handed back
 * untouched, so the caller's error handling answers as without transactions.
 */
export async function transactResponse(
  res: ServerResponse,
  execution: TransactionalExecution,
  invoke: () => unknown,
): Promise<void> {
  const held = holdResponse(res, execution.maxResponseBytes);
  let invoked: Promise<unknown> | undefined;
  let result;
  try {
    result = await execution.transact(() => {
      invoked = Promise.resolve(invoke());
      // An event stream reports before its handler returns; otherwise a handler error wins.
      return Promise.race([held.done, invoked.then(() => held.done)]);
    });
  } catch (error) {
    held.discard();
    throw error;
  }
  if (result.action === 'send') held.send();
  else held.replace(result.response);
  // A handler that fails after its event stream began: the adapter's error handling closes it.
  await invoked;
}
