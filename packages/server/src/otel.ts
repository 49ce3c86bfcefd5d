// OpenTelemetry for @oncely/server. A subpath of its own, so the main entry and the adapters never
// import @opentelemetry/api: it is an optional peer dependency that only users of this subpath need.
export { openTelemetry } from './observability/otel/server-telemetry.js';
export type { OpenTelemetryOptions } from './observability/otel/server-telemetry.js';
export {
  IdempotencyDecision,
  IdempotencyOutcome,
  OncelyAttribute,
  OncelyMetric,
} from './observability/otel/attributes.js';
