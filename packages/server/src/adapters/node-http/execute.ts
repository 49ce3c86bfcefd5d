import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Decision, Execution } from '../../engine/types.js';
import { transactResponse } from './hold-response.js';
import { recordResponse } from './record-response.js';
import { isAnswerable, sendPrepared } from './send-prepared.js';

/**
 * Carries out the engine's decision on a node response (Express, node:http): `invoke` runs the
 * handler. Resolves once the handler was started (transactional: once the response was sent);
 * rejects with the handler's own error. When someone else answered while the engine decided (a
 * timeout middleware), nothing runs: a claim is released, a replay dropped.
 */
export async function carryOut(
  req: IncomingMessage,
  res: ServerResponse,
  decision: Decision,
  invoke: () => unknown,
): Promise<void> {
  if (decision.action === 'respond') return sendPrepared(res, decision.response, req);
  if (decision.action === 'pass') {
    if (isAnswerable(res)) await invoke();
    return;
  }
  await execute(req, res, decision.execution, invoke);
}

async function execute(
  req: IncomingMessage,
  res: ServerResponse,
  execution: Execution,
  invoke: () => unknown,
): Promise<void> {
  if (!isAnswerable(res)) {
    execution.cancel();
    if (!res.writableEnded) res.destroy();
    return;
  }
  if (execution.transactional) return transactResponse(req, res, execution, invoke);
  recordResponse(req, res, execution);
  await execution.run(invoke);
}
