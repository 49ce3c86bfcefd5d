import { METHOD_METADATA, MODULE_PATH, PATH_METADATA, VERSION_METADATA } from '@nestjs/common/constants.js';
import type { RequestMethod, VERSION_NEUTRAL } from '@nestjs/common';
import type { DiscoveryService, MetadataScanner, ModulesContainer } from '@nestjs/core';
import { IDEMPOTENT_METADATA } from './idempotent.js';
import type { RouteIdempotencyOptions } from './options.js';

type Version = string | typeof VERSION_NEUTRAL;

/** A route as `MiddlewareConsumer.forRoutes()` takes it (Nest's `RouteInfo`, not exported by name). */
export interface RouteInfo {
  path: string;
  method: RequestMethod;
  version?: Version | Version[];
}

/** A route handler with its own idempotency options (from `@Idempotent()` on it or its controller). */
export interface IdempotentRoute {
  /** The handler function on the controller's prototype: Nest copies its metadata onto the route. */
  handler: object;
  /** `ControllerName.method`, for error messages. */
  name: string;
  options: Exclude<RouteIdempotencyOptions, Record<string, never>>;
  /** Where Nest serves the handler, for middleware (`forRoutes`). */
  routes: RouteInfo[];
}

/**
 * Every route handler whose `@Idempotent()` options differ from the module's: `false`, or options
 * that override some. A handler's own decorator wins over its controller's.
 */
export function findIdempotentRoutes(
  discovery: DiscoveryService,
  scanner: MetadataScanner,
  modules: ModulesContainer,
): IdempotentRoute[] {
  const found: IdempotentRoute[] = [];
  const seen = new Set<object>();
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as (abstract new (...args: never[]) => unknown) | null;
    if (typeof controller !== 'function' || seen.has(controller)) continue;
    seen.add(controller);
    const classOptions = readOptions(controller);
    const prototype = controller.prototype as Record<string, unknown>;
    for (const name of scanner.getAllMethodNames(prototype)) {
      const handler = prototype[name];
      if (typeof handler !== 'function' || Reflect.getMetadata(METHOD_METADATA, handler) === undefined) {
        continue;
      }
      const options = mergeOptions(classOptions, readOptions(handler));
      if (options === undefined || (options !== false && Object.keys(options).length === 0)) continue;
      found.push({
        handler,
        name: `${controller.name}.${name}`,
        options,
        routes: routesOf(controller, handler, modulePaths(controller, modules)),
      });
    }
  }
  return found;
}

function readOptions(target: object): RouteIdempotencyOptions | undefined {
  return Reflect.getMetadata(IDEMPOTENT_METADATA, target) as RouteIdempotencyOptions | undefined;
}

function mergeOptions(
  onClass: RouteIdempotencyOptions | undefined,
  onHandler: RouteIdempotencyOptions | undefined,
): RouteIdempotencyOptions | undefined {
  if (onHandler === false || onClass === undefined || onClass === false) return onHandler ?? onClass;
  return { ...onClass, ...onHandler };
}

/**
 * The paths of the handler as Nest's router serves them, less the global prefix (Nest adds it to
 * middleware routes itself): each module path (RouterModule) × controller path × handler path.
 */
function routesOf(
  controller: object,
  handler: object,
  prefixes: readonly string[],
): IdempotentRoute['routes'] {
  const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod;
  const version = (Reflect.getMetadata(VERSION_METADATA, handler) ??
    Reflect.getMetadata(VERSION_METADATA, controller)) as RouteInfo['version'];
  const controllerPaths = asArray(Reflect.getMetadata(PATH_METADATA, controller));
  const handlerPaths = asArray(Reflect.getMetadata(PATH_METADATA, handler));
  return prefixes.flatMap((prefix) =>
    controllerPaths.flatMap((controllerPath) =>
      handlerPaths.map((handlerPath) => ({
        path: joinPaths(prefix, controllerPath, handlerPath),
        method,
        ...(version === undefined ? {} : { version }),
      })),
    ),
  );
}

/** The paths of the modules that declare `controller` (RouterModule), as Nest's router reads them. */
function modulePaths(controller: object, modules: ModulesContainer): string[] {
  const paths = new Set<string>();
  for (const moduleRef of modules.values()) {
    if (!moduleRef.controllers.has(controller as never)) continue;
    const path = (Reflect.getMetadata(MODULE_PATH + modules.applicationId, moduleRef.metatype) ??
      Reflect.getMetadata(MODULE_PATH, moduleRef.metatype)) as string | undefined;
    paths.add(path ?? '');
  }
  return paths.size === 0 ? [''] : [...paths];
}

function asArray(value: unknown): string[] {
  if (Array.isArray(value)) return value.length === 0 ? ['/'] : (value as string[]);
  return [typeof value === 'string' ? value : '/'];
}

function joinPaths(...parts: string[]): string {
  const joined = parts
    .map((part) => part.replace(/^\/+|\/+$/g, ''))
    .filter((part) => part !== '')
    .join('/');
  return `/${joined}`;
}
