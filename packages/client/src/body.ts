/** A function that makes the request body afresh for each attempt (e.g. opens a file stream again). */
export type BodyFactory = () => BodyInit | null | PromiseLike<BodyInit | null>;

/** A request body made ready to be sent, and re-sent, as the same bytes. */
export interface PreparedBody {
  /** The body every attempt sends, when it is the same value each time; `undefined`: ask `next()`. */
  readonly fixed: BodyInit | null | undefined;
  /** The body of the next attempt. */
  next(): Promise<BodyInit | null>;
  /** Whether it can be sent more than once. */
  readonly replayable: boolean;
  /** A content type the body needs and the caller's headers may lack (a FormData boundary, forms). */
  readonly contentType: string | undefined;
}

/** A body sent as the same value on every attempt (a class: one is made per call). */
class FixedBody implements PreparedBody {
  readonly replayable = true;
  constructor(
    readonly fixed: BodyInit | null,
    readonly contentType: string | undefined,
  ) {}

  next(): Promise<BodyInit | null> {
    return Promise.resolve(this.fixed);
  }
}

const NO_BODY: PreparedBody = new FixedBody(null, undefined);

/**
 * Prepares a body so every attempt sends the same bytes:
 * - strings and Blobs are immutable and sent as they are;
 * - bytes (ArrayBuffer, typed arrays, DataView) and URLSearchParams are copied once, so a caller that
 *   reuses its buffer cannot change a retry;
 * - FormData is serialised once: each serialisation picks a new random multipart boundary, which would
 *   change the bytes (and the server's fingerprint) on every retry;
 * - a ReadableStream (or any other one-shot body) is sent once and is not replayable;
 * - a {@link BodyFactory} is called for each attempt.
 *
 * Only FormData needs to wait (for its serialisation); every other body is prepared at once.
 */
export function prepareBody(
  body: BodyInit | BodyFactory | null | undefined,
): PreparedBody | Promise<PreparedBody> {
  if (body === null || body === undefined) return NO_BODY;
  if (typeof body === 'function') {
    return {
      fixed: undefined,
      next: async () => (await body()) ?? null,
      replayable: true,
      contentType: undefined,
    };
  }
  if (typeof body === 'string' || isBlob(body)) return fixed(body, undefined);
  if (body instanceof ArrayBuffer) return fixed(body.slice(0), undefined);
  if (ArrayBuffer.isView(body)) {
    const copy = new Uint8Array(body.byteLength);
    copy.set(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
    return fixed(copy, undefined);
  }
  if (body instanceof URLSearchParams)
    return fixed(body.toString(), 'application/x-www-form-urlencoded;charset=UTF-8');
  if (typeof FormData !== 'undefined' && body instanceof FormData) return serialiseFormData(body);
  // ReadableStream, async iterables and other one-shot bodies.
  let sent = false;
  return {
    fixed: undefined,
    next: () => {
      if (sent) return Promise.reject(new TypeError('The request body stream was already sent.'));
      sent = true;
      return Promise.resolve(body);
    },
    replayable: false,
    contentType: undefined,
  };
}

/** Whether a value is a stream body, which fetch can only send with `duplex: 'half'`. */
export function isStreamBody(body: unknown): boolean {
  return (
    (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) ||
    (typeof body === 'object' && body !== null && Symbol.asyncIterator in body)
  );
}

async function serialiseFormData(body: FormData): Promise<PreparedBody> {
  const serialised = new Response(body);
  const bytes = new Uint8Array(await serialised.arrayBuffer());
  return fixed(bytes, serialised.headers.get('content-type') ?? undefined);
}

function fixed(body: BodyInit | null, contentType: string | undefined): PreparedBody {
  return new FixedBody(body, contentType);
}

function isBlob(value: unknown): value is Blob {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}
