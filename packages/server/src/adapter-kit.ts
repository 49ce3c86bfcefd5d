// The engine as a framework adapter drives it (see the Express, Fastify, Hono, fetch and node:http
// adapters of this package): ask what to do with a request, claim with its body, then run the handler
// through the execution and report its response as the framework writes it. Prove an adapter with
// `runAdapterConformanceSuite` from '@oncely/server/testing'.
export { createIdempotencyEngine } from './engine/engine.js';
export type { IdempotencyEngine } from './engine/engine.js';
export type { ResolvedIdempotencyOptions } from './engine/options.js';
export { BODY_TOO_LARGE, isBodyTooLarge, splitTarget } from './engine/types.js';
export type {
  BodyTooLarge,
  CapturedResponse,
  Decision,
  EngineRequest,
  Execution,
  Inspection,
  KeyedRequest,
  NotReplayableReason,
  PreparedResponse,
  RequestHead,
  ResponseHeaders,
  Settlement,
} from './engine/types.js';
