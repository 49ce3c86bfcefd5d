import { Inject, Module } from '@nestjs/common';
import type { DynamicModule, MiddlewareConsumer, NestModule } from '@nestjs/common';
import {
  DiscoveryModule,
  DiscoveryService,
  HttpAdapterHost,
  MetadataScanner,
  ModulesContainer,
} from '@nestjs/core';
import { invalidOptionError } from '@oncely/core';
import { applyExpressIdempotency } from './express.js';
import { applyFastifyIdempotency } from './fastify.js';
import { findIdempotentRoutes } from './idempotent-routes.js';
import { IDEMPOTENCY_MODULE_OPTIONS } from './options.js';
import type { IdempotencyModuleAsyncOptions, IdempotencyModuleOptions } from './options.js';

/**
 * Makes every keyed request of an unsafe method (POST, PATCH, …) run its route once per idempotency
 * key, on the Express and Fastify platforms, with Oncely's adapter for the platform underneath. Routes
 * change their options or opt out with {@link Idempotent}.
 *
 * @example
 * @Module({ imports: [IdempotencyModule.forRoot({ store, scope: (req) => req.headers['x-api-key'] })] })
 * export class AppModule {}
 */
@Module({})
export class IdempotencyModule implements NestModule {
  constructor(
    @Inject(IDEMPOTENCY_MODULE_OPTIONS) private readonly options: IdempotencyModuleOptions,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Inject(ModulesContainer) private readonly modules: ModulesContainer,
  ) {}

  /** The module with `options`: those of every Oncely adapter (`store`, `scope`, `ttl`, `lease`, …). */
  static forRoot<Req = any>(options: IdempotencyModuleOptions<Req>): DynamicModule {
    assertOptionsObject('options', options);
    return {
      module: IdempotencyModule,
      imports: [DiscoveryModule],
      providers: [{ provide: IDEMPOTENCY_MODULE_OPTIONS, useValue: options }, MetadataScanner],
    };
  }

  /** The module with options from a factory, e.g. a store built from a config service. */
  static forRootAsync<Req = any>(options: IdempotencyModuleAsyncOptions<Req>): DynamicModule {
    assertOptionsObject('options', options);
    if (typeof options.useFactory !== 'function') {
      throw invalidOptionError('useFactory', options.useFactory, 'a function returning the module options');
    }
    return {
      module: IdempotencyModule,
      imports: [DiscoveryModule, ...(options.imports ?? [])],
      providers: [
        {
          provide: IDEMPOTENCY_MODULE_OPTIONS,
          useFactory: async (...args: unknown[]) => {
            const resolved = await options.useFactory(...args);
            assertOptionsObject('useFactory()', resolved);
            return resolved;
          },
          inject: options.inject ?? [],
        },
        MetadataScanner,
      ],
    };
  }

  /** Runs at `app.init()`, before Nest registers the routes. */
  async configure(consumer: MiddlewareConsumer): Promise<void> {
    const adapter = this.adapterHost.httpAdapter;
    const routes = findIdempotentRoutes(this.discovery, this.scanner, this.modules);
    const platform = adapter.getType();
    if (platform === 'express') return applyExpressIdempotency(consumer, this.options, routes);
    if (platform === 'fastify') return applyFastifyIdempotency(adapter.getInstance(), this.options, routes);
    throw new Error(`@oncely/nestjs runs on the Express and Fastify platforms, not on "${platform}"`);
  }
}

function assertOptionsObject(name: string, value: unknown): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidOptionError(name, value, 'an options object');
  }
}
