import { discardResponse, markRedirected } from './fetch-response.js';
import { keyFollowsRedirect } from './keyed.js';

/** What one hop sends. */
export type HopInit = RequestInit & { duplex?: 'half' };

/** Sends one request; the fetch the caller chose. */
export type Send = (url: string | URL, init: HopInit) => Promise<Response>;

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Fetch follows at most 20 redirects (Fetch standard, HTTP-redirect fetch, step 7). */
const MAX_REDIRECTS = 20;

/** Headers that describe a body, dropped with it when a redirect turns the request into a GET. */
const BODY_HEADERS = ['content-type', 'content-encoding', 'content-language', 'content-location'];

/** Headers that never cross to another origin, as undici drops them (the key too: `keyFollowsRedirect`). */
const ORIGIN_BOUND_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];

/**
 * Browsers (and their workers) answer `redirect: 'manual'` with an opaque response that hides the
 * Location: a script cannot follow the redirect itself there, and the browser follows it. Known up
 * front where possible; learnt from the first opaque redirect otherwise.
 */
let manualRedirectsHidden =
  typeof (globalThis as { document?: unknown }).document !== 'undefined' ||
  typeof (globalThis as { importScripts?: unknown }).importScripts === 'function';

/** Whether this runtime lets a script follow redirects itself (every server runtime does). */
export function canFollowRedirects(): boolean {
  return !manualRedirectsHidden;
}

/**
 * Sends a keyed request (`init`, which it may change: make it for this call) and follows its redirects itself (`redirect: 'manual'`), as fetch would —
 * same limit, same method rewriting — but the key stays with its origin and its operation:
 * - a redirect to another origin drops the key (and, as undici does, `Authorization`,
 *   `Proxy-Authorization` and `Cookie`);
 * - a 303 (after anything but GET/HEAD), or a 301/302 after a POST, turns the request into a GET
 *   without body or body headers: a different operation, so the key is dropped too;
 * - a 307/308 re-sends the same method and body (`nextBody()`: the same bytes; for a one-shot stream
 *   it rejects with a refusal, as fetch does).
 *
 * Requests that cannot be followed reject like undici's fetch does — a `TypeError` whose `cause` names
 * the reason (`redirect count exceeded`, …) — which Oncely does not retry.
 */
export function sendFollowingRedirects(
  send: Send,
  url: string | URL,
  init: HopInit,
  keyHeader: string,
  nextBody: () => Promise<BodyInit | null>,
): Promise<Response> {
  // Most requests are never redirected: the first hop is sent as it is, with nothing else to set up.
  init.redirect = 'manual';
  return send(url, init).then((response) =>
    REDIRECT_STATUSES.has(response.status) || response.status === 0
      ? follow(response, send, url, init, keyHeader, nextBody)
      : response,
  );
}

/** Follows the redirect `first` answered, and those after it. */
async function follow(
  first: Response,
  send: Send,
  url: string | URL,
  init: HopInit,
  keyHeader: string,
  nextBody: () => Promise<BodyInit | null>,
): Promise<Response> {
  let current = typeof url === 'string' ? url : url.href;
  let method = (init.method ?? 'GET').toUpperCase();
  let headers = init.headers as Headers;
  let body = init.body ?? null;
  let response = first;
  for (let redirects = 0; ; redirects++) {
    if (redirects > 0) {
      response = await send(current, { ...init, method, headers, body, redirect: 'manual' });
    }
    // An opaque redirect has status 0: the cheap getter first.
    if (response.status === 0 && response.type === 'opaqueredirect') {
      manualRedirectsHidden = true;
      return send(current, {
        ...init,
        method,
        headers,
        body: await resend(body, nextBody),
        redirect: 'follow',
      });
    }
    const location = REDIRECT_STATUSES.has(response.status) ? response.headers.get('location') : null;
    if (location === null) return redirects === 0 ? response : markRedirected(response);
    discardResponse(response);
    const from = new URL(current);
    let target: URL;
    try {
      target = new URL(location, from);
    } catch {
      throw refused(`invalid redirect location ${JSON.stringify(location)}`);
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw refused(`redirect to a ${target.protocol.slice(0, -1)} URL`);
    }
    if (redirects === MAX_REDIRECTS) throw refused('redirect count exceeded');
    const { status } = response;
    const toGet =
      ((status === 301 || status === 302) && method === 'POST') ||
      (status === 303 && method !== 'GET' && method !== 'HEAD');
    const nextMethod = toGet ? 'GET' : method;
    const crossOrigin = target.origin !== from.origin;
    const keyStays = keyFollowsRedirect(from, method, target, nextMethod);
    if (!keyStays) headers = new Headers(headers);
    if (toGet) {
      body = null;
      for (const name of BODY_HEADERS) headers.delete(name);
    } else {
      body = await resend(body, nextBody);
    }
    if (crossOrigin) for (const name of ORIGIN_BOUND_HEADERS) headers.delete(name);
    if (!keyStays) headers.delete(keyHeader);
    method = nextMethod;
    current = target.href;
  }
}

function resend(body: BodyInit | null, nextBody: () => Promise<BodyInit | null>): Promise<BodyInit | null> {
  return body === null ? Promise.resolve(null) : nextBody();
}

/** The `code` on the cause of Oncely's own refusals, so they are judged by code, never by message. */
export const FETCH_REFUSED = 'ERR_ONCELY_FETCH_REFUSED';

/** A refusal shaped like undici's: `TypeError: fetch failed` with the reason as `cause`. */
export function refused(reason: string, cause?: unknown): TypeError {
  return new TypeError('fetch failed', {
    cause: Object.assign(new Error(reason, cause === undefined ? undefined : { cause }), {
      code: FETCH_REFUSED,
    }),
  });
}
