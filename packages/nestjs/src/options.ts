import type { IdempotencyOptions } from '@oncely/server';

/**
 * Options of {@link IdempotencyModule.forRoot}: the options of every Oncely adapter. `scope` receives
 * the platform's request (Express `Request` or `FastifyRequest`) before Nest's guards run, so derive
 * the tenant from what the request carries (an API key header, a verified token), not from
 * `req.user` set by a guard.
 */
export type IdempotencyModuleOptions<Req = any> = IdempotencyOptions<Req>;

/** Per-route options of {@link Idempotent}: merged over the module's, or `false` to skip the route. */
export type RouteIdempotencyOptions<Req = any> = Partial<IdempotencyModuleOptions<Req>> | false;

/** Options of {@link IdempotencyModule.forRootAsync}: the module options from a factory with injections. */
export interface IdempotencyModuleAsyncOptions<Req = any> {
  /** Modules that export the providers `inject` names. @default [] */
  imports?: any[] | undefined;
  /** Tokens whose providers are passed to `useFactory`, in order. @default [] */
  inject?: any[] | undefined;
  /** Makes the module options, e.g. with a store built from a config service. */
  useFactory: (...args: any[]) => IdempotencyModuleOptions<Req> | Promise<IdempotencyModuleOptions<Req>>;
}

/** The injection token of the module options. */
export const IDEMPOTENCY_MODULE_OPTIONS = Symbol.for('oncely.nestjs.options');
