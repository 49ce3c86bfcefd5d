import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import {
  Body,
  Controller,
  Get,
  Injectable,
  Module,
  NotFoundException,
  Param,
  Post,
  Req,
  UnauthorizedException,
  UseGuards,
  Version,
  VersioningType,
} from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ProblemType } from '@oncely/core';
import { MemoryStore } from '@oncely/server';
import { describe, expect, it } from 'vitest';
import { IdempotencyModule } from './idempotency-module.js';
import { Idempotent } from './idempotent.js';
import { startNest } from './test-harness.js';
import type { Platform } from './test-harness.js';

interface Answer {
  status: number;
  replayed: string | null;
  text: string;
  json(): any;
}

async function post(url: string, key: string | undefined, body = '{"amount":100}'): Promise<Answer> {
  const headers = new Headers({ 'content-type': 'application/json' });
  if (key !== undefined) headers.set('idempotency-key', key);
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  return {
    status: response.status,
    replayed: response.headers.get('idempotent-replayed'),
    text,
    json: () => JSON.parse(text),
  };
}

/** Handler runs per route, shared by the controllers below. */
const runs = new Map<string, number>();
const run = (name: string): number => {
  runs.set(name, (runs.get(name) ?? 0) + 1);
  return runs.get(name)!;
};

@Controller('orders')
class OrdersController {
  @Post()
  create(@Body() body: unknown) {
    return { run: run('create'), body };
  }

  @Post('strict')
  @Idempotent({ required: true })
  strict() {
    return { run: run('strict') };
  }

  @Post('free')
  @Idempotent(false)
  free() {
    return { run: run('free') };
  }

  @Post(':id/refunds')
  @Idempotent({ required: true })
  refund(@Param('id') id: string) {
    return { run: run('refund'), id };
  }

  @Post('missing')
  missing() {
    run('missing');
    throw new NotFoundException('no such order');
  }

  @Post('config')
  @RouteConfig({ audit: true })
  @Idempotent({ required: true })
  config(@Req() req: { routeOptions?: { config?: Record<string, unknown> } }) {
    return { run: run('config'), audit: req.routeOptions?.config?.['audit'] ?? null };
  }

  @Post('guarded')
  @UseGuards({ canActivate: () => run('guard') > 1 })
  guarded() {
    return { run: run('guarded') };
  }

  @Get()
  list() {
    return { run: run('list') };
  }
}

/** A controller that requires a key on every route but one. */
@Controller('strict-controller')
@Idempotent({ required: true })
class StrictController {
  @Post('a')
  a() {
    return { run: run('a') };
  }

  @Post('b')
  @Idempotent(false)
  b() {
    return { run: run('b') };
  }
}

@Module({
  imports: [IdempotencyModule.forRoot({ store: new MemoryStore(), scope: 'global' })],
  controllers: [OrdersController, StrictController],
})
class AppModule {}

describe.each<Platform>(['express', 'fastify'])('IdempotencyModule on %s', (platform) => {
  const withApp = async (test: (url: string) => Promise<void>, module: object = AppModule) => {
    runs.clear();
    const { url, close } = await startNest(platform, module as never);
    try {
      await test(url);
    } finally {
      await close();
    }
  };

  it('protects every keyed POST with the module options, through Nest body parsing', () =>
    withApp(async (url) => {
      const key = randomUUID();
      const first = await post(`${url}/orders`, key);
      expect([first.status, first.json(), first.replayed]).toEqual([
        201,
        { run: 1, body: { amount: 100 } },
        null,
      ]);
      const replay = await post(`${url}/orders`, key);
      expect([replay.status, replay.text, replay.replayed]).toEqual([201, first.text, 'true']);
      // rawBody is on: the fingerprint is of the bytes, so other JSON for the same key is a mismatch.
      const other = await post(`${url}/orders`, key, '{ "amount": 100 }');
      expect([other.status, other.json().type]).toEqual([422, ProblemType.keyReused]);
      const unkeyed = await post(`${url}/orders`, undefined);
      expect(unkeyed.json().run).toBe(2);
      expect(runs.get('create')).toBe(2);
    }));

  it('applies @Idempotent() options per route, on routes with parameters too', () =>
    withApp(async (url) => {
      const missing = await post(`${url}/orders/strict`, undefined);
      expect([missing.status, missing.json().type]).toEqual([400, ProblemType.keyMissing]);
      const key = randomUUID();
      expect((await post(`${url}/orders/strict`, key)).status).toBe(201);
      expect((await post(`${url}/orders/strict`, key)).replayed).toBe('true');
      expect(runs.get('strict')).toBe(1);

      expect((await post(`${url}/orders/42/refunds`, undefined)).status).toBe(400);
      const refundKey = randomUUID();
      const refund = await post(`${url}/orders/42/refunds`, refundKey);
      expect([refund.status, refund.json()]).toEqual([201, { run: 1, id: '42' }]);
      // The same key on another order is another request: 422, not a replay of order 42's refund.
      expect((await post(`${url}/orders/43/refunds`, refundKey)).status).toBe(422);
      expect(runs.get('refund')).toBe(1);
    }));

  it('leaves a route with @Idempotent(false) alone, key or not', () =>
    withApp(async (url) => {
      const key = randomUUID();
      const answers = [await post(`${url}/orders/free`, key), await post(`${url}/orders/free`, key)];
      expect(answers.map((a) => [a.status, a.json().run, a.replayed])).toEqual([
        [201, 1, null],
        [201, 2, null],
      ]);
    }));

  it("takes a controller's @Idempotent() for its routes; a route's own wins", () =>
    withApp(async (url) => {
      expect((await post(`${url}/strict-controller/a`, undefined)).status).toBe(400);
      expect((await post(`${url}/strict-controller/b`, undefined)).status).toBe(201);
      expect(runs.get('a')).toBeUndefined();
    }));

  it("stores and replays a Nest exception's 4xx answer; never runs GET through the engine", () =>
    withApp(async (url) => {
      const key = randomUUID();
      const first = await post(`${url}/orders/missing`, key);
      expect([first.status, first.json().message]).toEqual([404, 'no such order']);
      const replay = await post(`${url}/orders/missing`, key);
      expect([replay.status, replay.text, replay.replayed]).toEqual([404, first.text, 'true']);
      expect(runs.get('missing')).toBe(1);
      const get = await fetch(`${url}/orders`, { headers: { 'idempotency-key': key } });
      expect([get.status, get.headers.get('idempotent-replayed')]).toEqual([200, null]);
    }));

  it("stores a guard's refusal as the outcome of its key: the retry is its replay, the guard runs once", () =>
    withApp(async (url) => {
      const key = randomUUID();
      const refused = await post(`${url}/orders/guarded`, key);
      expect(refused.status).toBe(403);
      const replay = await post(`${url}/orders/guarded`, key);
      expect([replay.status, replay.text, replay.replayed]).toEqual([403, refused.text, 'true']);
      expect([runs.get('guard'), runs.get('guarded')]).toEqual([1, undefined]);
      // A new key is a new request: this time the guard lets it through.
      expect((await post(`${url}/orders/guarded`, randomUUID())).status).toBe(201);
    }));

  it('keeps the route config of @RouteConfig() next to its own (Fastify)', () =>
    withApp(async (url) => {
      expect((await post(`${url}/orders/config`, undefined)).status).toBe(400);
      const answer = await post(`${url}/orders/config`, randomUUID());
      expect([answer.status, answer.json()]).toEqual([
        201,
        { run: 1, audit: platform === 'fastify' ? true : null },
      ]);
    }));

  it('finds per-route options under a global prefix and URI versioning', async () => {
    @Controller('v-orders')
    class VersionedController {
      @Post()
      @Version('2')
      @Idempotent({ required: true })
      create() {
        return { run: run('v2') };
      }
    }
    @Module({
      imports: [IdempotencyModule.forRoot({ scope: 'global' })],
      controllers: [VersionedController],
    })
    class VersionedModule {}
    runs.clear();
    const { url, close } = await startNest(platform, VersionedModule, {
      configure: (app) => {
        app.setGlobalPrefix('api');
        app.enableVersioning({ type: VersioningType.URI });
      },
    });
    try {
      expect((await post(`${url}/api/v2/v-orders`, undefined)).status).toBe(400);
      const key = randomUUID();
      expect((await post(`${url}/api/v2/v-orders`, key)).status).toBe(201);
      expect((await post(`${url}/api/v2/v-orders`, key)).replayed).toBe('true');
      expect(runs.get('v2')).toBe(1);
    } finally {
      await close();
    }
  });

  it('answers with Nest exception filters when scope throws an HttpException', async () => {
    @Module({
      imports: [
        IdempotencyModule.forRoot({
          scope: () => {
            throw new UnauthorizedException('who are you?');
          },
        }),
      ],
      controllers: [OrdersController],
    })
    class ScopedModule {}
    await withApp(async (url) => {
      const answer = await post(`${url}/orders`, randomUUID());
      expect([answer.status, answer.json().message]).toEqual([401, 'who are you?']);
      expect(runs.get('create')).toBeUndefined();
    }, ScopedModule);
  });

  it('takes its options from forRootAsync() with injected providers', async () => {
    @Injectable()
    class Settings {
      readonly tenantHeader = 'x-tenant';
    }
    @Module({ providers: [Settings], exports: [Settings] })
    class SettingsModule {}
    @Module({
      imports: [
        IdempotencyModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: async (settings: Settings) => ({
            required: true,
            scope: (req: { headers: Record<string, string | undefined> }) =>
              req.headers[settings.tenantHeader] ?? 'anonymous',
          }),
        }),
      ],
      controllers: [OrdersController],
    })
    class AsyncModule {}
    await withApp(async (url) => {
      expect((await post(`${url}/orders`, undefined)).status).toBe(400);
      const key = randomUUID();
      expect((await post(`${url}/orders`, key)).status).toBe(201);
      expect((await post(`${url}/orders`, key)).replayed).toBe('true');
    }, AsyncModule);
  });

  it('fails app start-up on invalid per-route options, naming the option', async () => {
    @Controller('bad')
    class BadController {
      @Post()
      @Idempotent({ ttl: -1 })
      create() {
        return {};
      }
    }
    @Module({ imports: [IdempotencyModule.forRoot({ scope: 'global' })], controllers: [BadController] })
    class BadModule {}
    await expect(startNest(platform, BadModule)).rejects.toThrow(/`ttl`/);
  });
});

describe('IdempotencyModule options', () => {
  it('refuses options that are not an object, and @Idempotent() arguments that are neither', () => {
    expect(() => IdempotencyModule.forRoot(null as never)).toThrow(/Invalid option `options`/);
    expect(() => IdempotencyModule.forRootAsync({ useFactory: 'no' as never })).toThrow(
      /Invalid option `useFactory`/,
    );
    expect(() => Idempotent('yes' as never)).toThrow(/Invalid option `@Idempotent\(options\)`/);
  });
});
