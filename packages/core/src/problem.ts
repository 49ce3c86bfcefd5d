import { invalidOptionError } from './errors.js';

/**
 * RFC 9457 problem details shared by server (which answers them) and client (which recognises them
 * by `type`, never by status alone).
 */
const PROBLEM_BASE = 'https://oncely.dev/problems/';

/** The `type` URI of each problem Oncely answers. Stable: clients match on these. */
export const ProblemType = {
  /** 400: the route requires an `Idempotency-Key` and none was sent. */
  keyMissing: `${PROBLEM_BASE}key-missing`,
  /** 400: the key is empty, longer than 255 characters, not printable ASCII, or repeated. */
  keyInvalid: `${PROBLEM_BASE}key-invalid`,
  /** 409: a request with this key is still being processed; retry after `Retry-After`. */
  requestInProgress: `${PROBLEM_BASE}request-in-progress`,
  /** 422: this key was already used with a different request (method, path, query or body). */
  keyReused: `${PROBLEM_BASE}key-reused`,
  /** 413: the request body is larger than the server reads for an idempotent request; it was not run. */
  requestTooLarge: `${PROBLEM_BASE}request-too-large`,
  /** 503: the idempotency store cannot be reached; the request was not run. */
  storeUnavailable: `${PROBLEM_BASE}store-unavailable`,
  /** The first response with this key could not be stored (too large, or streamed); it was not rerun. */
  responseNotReplayable: `${PROBLEM_BASE}response-not-replayable`,
} as const;

export type ProblemTypeUri = (typeof ProblemType)[keyof typeof ProblemType];

/** Media type of an RFC 9457 problem document. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** An RFC 9457 problem document as Oncely writes it. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  /** Extension member: the idempotency key the problem is about, when there was a valid one. */
  idempotencyKey?: string;
  [extension: string]: unknown;
}

/** Title and status of each problem type: one place, so server answers and docs agree. */
export const PROBLEMS: Readonly<Record<ProblemTypeUri, { title: string; status: number }>> = {
  [ProblemType.keyMissing]: { title: 'Idempotency-Key header is required', status: 400 },
  [ProblemType.keyInvalid]: { title: 'Idempotency-Key header is invalid', status: 400 },
  [ProblemType.requestInProgress]: {
    title: 'A request with this Idempotency-Key is in progress',
    status: 409,
  },
  [ProblemType.keyReused]: {
    title: 'Idempotency-Key was already used with a different request',
    status: 422,
  },
  [ProblemType.requestTooLarge]: { title: 'Request body is too large', status: 413 },
  [ProblemType.storeUnavailable]: { title: 'Idempotency store is unavailable', status: 503 },
  [ProblemType.responseNotReplayable]: {
    title: 'The response to this Idempotency-Key cannot be replayed',
    status: 500,
  },
};

const KNOWN_TYPES = new Set<string>(Object.values(ProblemType));

/** Builds the problem document for one of Oncely's problem types. */
export function createProblem(
  type: ProblemTypeUri,
  fields: { detail?: string; idempotencyKey?: string; status?: number; [extension: string]: unknown } = {},
): ProblemDetails {
  const known = PROBLEMS[type] as { title: string; status: number } | undefined;
  if (known === undefined) {
    throw invalidOptionError(
      'type',
      type,
      `one of Oncely's problem type URIs (${Object.values(ProblemType).join(', ')})`,
    );
  }
  const { title, status } = known;
  return { type, title, status, ...fields };
}

/** Whether `type` is one of Oncely's problem type URIs. */
export function isOncelyProblemType(type: unknown): type is ProblemTypeUri {
  return typeof type === 'string' && KNOWN_TYPES.has(type);
}

/**
 * Reads the problem `type` from a response body already parsed as JSON, or from its text. Returns
 * `undefined` for anything that is not a problem document. Never throws.
 *
 * @internal Shared with the sibling packages; not part of the public API.
 */
export function readProblemType(body: unknown): string | undefined {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const type = (value as { type?: unknown }).type;
  return typeof type === 'string' ? type : undefined;
}
