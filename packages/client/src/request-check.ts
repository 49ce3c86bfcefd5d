/** Most distinct URL + method pairs remembered; the set starts afresh when full. */
const MAX_CHECKED = 256;
/** Longer URLs are checked every time rather than remembered. */
const MAX_REMEMBERED_URL = 2048;
/** A URL with its own scheme and authority: whether it parses does not depend on a base URL. */
const ABSOLUTE = /^https?:\/\//i;

const checked = new Set<string>();

/**
 * Throws the `TypeError` fetch would for a URL or method it refuses, before any attempt: afterwards,
 * a TypeError from fetch means a network error. `new Request` is the check; its verdict on an absolute
 * http(s) URL and a method depends on nothing else, so a pair that passed is remembered and not built again.
 */
export function assertFetchable(url: unknown, method: string): void {
  const href = typeof url === 'string' ? url : url instanceof URL ? url.href : undefined;
  const key = href === undefined ? undefined : `${method} ${href}`;
  if (key !== undefined && checked.has(key)) return;
  new Request(url as RequestInfo | URL, { method });
  if (key !== undefined && href!.length <= MAX_REMEMBERED_URL && ABSOLUTE.test(href!)) {
    if (checked.size >= MAX_CHECKED) checked.clear();
    checked.add(key);
  }
}
