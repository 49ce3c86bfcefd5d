/** Most distinct URLs remembered; the map starts afresh when full. */
const MAX_CHECKED = 256;
/** Most methods remembered per URL. */
const MAX_METHODS = 8;
/** Longer URLs are checked every time rather than remembered. */
const MAX_REMEMBERED_URL = 2048;
/** A URL with its own scheme and authority: whether it parses does not depend on a base URL. */
const ABSOLUTE = /^https?:\/\//i;

/** URL → the methods it was checked with. Keyed by the caller's own string: its hash is computed once. */
const checked = new Map<string, string[]>();

/**
 * Throws the `TypeError` fetch would for a URL or method it refuses, before any attempt: afterwards,
 * a TypeError from fetch means a network error. `new Request` is the check; its verdict on an absolute
 * http(s) URL and a method depends on nothing else, so a pair that passed is remembered and not built again.
 */
export function assertFetchable(url: unknown, method: string): void {
  const href = typeof url === 'string' ? url : url instanceof URL ? url.href : undefined;
  const methods = href === undefined ? undefined : checked.get(href);
  if (methods?.includes(method)) return;
  new Request(url as RequestInfo | URL, { method });
  if (href === undefined || href.length > MAX_REMEMBERED_URL || !ABSOLUTE.test(href)) return;
  if (methods !== undefined) {
    if (methods.length < MAX_METHODS) methods.push(method);
    return;
  }
  if (checked.size >= MAX_CHECKED) checked.clear();
  checked.set(href, [method]);
}
