// OpenTelemetry for @oncely/client. A subpath of its own, so the main entry never imports
// @opentelemetry/api: it is an optional peer dependency that only users of this subpath need.
export { openTelemetry } from './observability/otel/client-telemetry.js';
export type { OpenTelemetryOptions } from './observability/otel/client-telemetry.js';
export {
  CALL_SPAN_NAME,
  ClientOutcome,
  OncelyClientAttribute,
  OncelyClientMetric,
  RETRY_EVENT_NAME,
} from './observability/otel/attributes.js';
