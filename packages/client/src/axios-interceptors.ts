import type { AxiosInstance, InternalAxiosRequestConfig } from 'axios';

type RequestHandler = (
  config: InternalAxiosRequestConfig,
) => InternalAxiosRequestConfig | Promise<InternalAxiosRequestConfig>;

interface HandlerSlot {
  fulfilled?: unknown;
}

/**
 * Makes every request interceptor of `instance` — those already registered and those registered later —
 * run `before` first. Axios runs request interceptors in reverse registration order by default, and in
 * registration order with `transitional.legacyInterceptorReqResOrdering: false`, so no single position
 * of Oncely's own interceptor would guarantee that a user's interceptor sees the key on the first
 * attempt. `before` must be idempotent: it also runs in Oncely's interceptor, and again on each retry.
 *
 * The interceptors `registerOwn` registers (Oncely's own and axios-retry's, which run `before`
 * themselves or do not read headers) are left as they are: wrapping them would only run `before` again.
 */
export function runBeforeRequestInterceptors(
  instance: AxiosInstance,
  before: (config: InternalAxiosRequestConfig) => InternalAxiosRequestConfig,
  registerOwn: () => void,
): void {
  const manager = instance.interceptors.request;
  const wrap = (handler: RequestHandler): RequestHandler =>
    function oncelyKeyFirst(this: unknown, config: InternalAxiosRequestConfig) {
      return handler.call(this, before(config));
    };
  const slots = (manager as unknown as { handlers?: (HandlerSlot | null)[] }).handlers;
  if (Array.isArray(slots)) {
    for (const slot of slots) {
      if (slot !== null && typeof slot.fulfilled === 'function')
        slot.fulfilled = wrap(slot.fulfilled as RequestHandler);
    }
  }
  registerOwn();
  const use = manager.use.bind(manager);
  manager.use = function useWithKeyFirst(fulfilled, rejected, options) {
    return use(typeof fulfilled === 'function' ? wrap(fulfilled) : fulfilled, rejected, options);
  };
}
