import { raceWithSignal } from './signals.js';

/** What a body factory is told about the attempt it makes a body for. */
export interface BodyFactoryContext {
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Aborts with the attempt (caller's abort, attempt timeout, deadline): stop making the body then. */
  readonly signal: AbortSignal;
}

/** A function that makes the request body afresh for each attempt (e.g. opens a file stream again). */
export type BodyFactory = (context: BodyFactoryContext) => BodyInit | null | PromiseLike<BodyInit | null>;

/** The body of one attempt, and the content type it needs (a FormData boundary) if any. */
export interface AttemptBody {
  readonly body: BodyInit | null;
  readonly contentType: string | undefined;
}

/** A request body made ready to be sent, and re-sent, as the same bytes. */
export interface PreparedBody {
  /** The body every attempt sends, once known; `undefined`: ask `next()`. */
  readonly fixed: BodyInit | null | undefined;
  /** Whether it can be sent more than once. */
  readonly replayable: boolean;
  /** A content type the body needs and the caller's headers may lack (forms). */
  readonly contentType: string | undefined;
  /**
   * The body of the next attempt. Everything it waits for (a factory, a `Request` body, FormData
   * serialisation) is bounded by `signal`; it rejects with `signal.reason` when that aborts.
   */
  next(attempt: number, signal: AbortSignal): Promise<AttemptBody>;
}

/** A body sent as the same value on every attempt. */
class FixedBody implements PreparedBody {
  readonly replayable = true;
  constructor(
    readonly fixed: BodyInit | null,
    readonly contentType: string | undefined,
  ) {}

  next(): Promise<AttemptBody> {
    return Promise.resolve(this);
  }

  get body(): BodyInit | null {
    return this.fixed;
  }
}

const NO_BODY = new FixedBody(null, undefined);

/**
 * A body that becomes fixed at its first attempt: FormData (serialised then), a `Request`'s body (read
 * then), or a factory's FormData. Later attempts send those exact bytes.
 */
abstract class OnceBody implements PreparedBody {
  readonly replayable: boolean = true;
  readonly contentType = undefined;
  fixed: BodyInit | null | undefined = undefined;
  private made: AttemptBody | undefined;

  async next(attempt: number, signal: AbortSignal): Promise<AttemptBody> {
    if (this.made !== undefined) return this.made;
    const made = await this.make(attempt, signal);
    if ('fresh' in made) return made.fresh;
    this.made = made;
    this.fixed = made.body;
    return made;
  }

  /** The body, and whether it is kept for later attempts (`fresh`: made again each time). */
  protected abstract make(
    attempt: number,
    signal: AbortSignal,
  ): Promise<AttemptBody | { fresh: AttemptBody }>;
}

class FormDataBody extends OnceBody {
  constructor(private readonly form: FormData) {
    super();
  }

  protected make(_attempt: number, signal: AbortSignal): Promise<AttemptBody> {
    return raceWithSignal(serialiseFormData(this.form), signal);
  }
}

class FactoryBody extends OnceBody {
  constructor(private readonly factory: BodyFactory) {
    super();
  }

  protected async make(attempt: number, signal: AbortSignal): Promise<AttemptBody | { fresh: AttemptBody }> {
    const body = (await raceWithSignal(Promise.resolve(this.factory({ attempt, signal })), signal)) ?? null;
    // A FormData picks a new multipart boundary each time it is serialised: serialised once, here, so
    // every attempt sends the same bytes and the server's fingerprint matches.
    if (isFormData(body)) return raceWithSignal(serialiseFormData(body), signal);
    return { fresh: { body, contentType: undefined } };
  }
}

class RequestBody extends OnceBody {
  constructor(private readonly stream: ReadableStream<Uint8Array>) {
    super();
  }

  protected make(_attempt: number, signal: AbortSignal): Promise<AttemptBody> {
    return readAll(this.stream, signal).then((bytes) => ({ body: bytes, contentType: undefined }));
  }
}

/** A one-shot body (a ReadableStream, an async iterable): sent once, never replayed. */
class OneShotBody implements PreparedBody {
  readonly replayable = false;
  readonly fixed = undefined;
  readonly contentType = undefined;
  private sent = false;
  constructor(private readonly body: BodyInit) {}

  next(): Promise<AttemptBody> {
    if (this.sent) return Promise.reject(new TypeError('The request body stream was already sent.'));
    this.sent = true;
    return Promise.resolve({ body: this.body, contentType: undefined });
  }
}

/**
 * Prepares a body so every attempt sends the same bytes:
 * - strings and Blobs are immutable and sent as they are;
 * - bytes (ArrayBuffer, typed arrays, DataView) and URLSearchParams are copied once, so a caller that
 *   reuses its buffer cannot change a retry;
 * - FormData — given, or returned by a factory — is serialised once, at the first attempt: each
 *   serialisation picks a new random multipart boundary, which would change the bytes (and the
 *   server's fingerprint) on every retry. The bytes are kept as a Blob, which fetch can re-send when it
 *   follows a 307/308 (a byte array it cannot: undici transfers its buffer);
 * - a `Request`'s body stream is read once, at the first attempt;
 * - a ReadableStream (or any other one-shot body) is sent once and is not replayable;
 * - a {@link BodyFactory} is called for each attempt.
 */
export function prepareBody(
  body: BodyInit | BodyFactory | null | undefined,
  requestStream?: ReadableStream<Uint8Array> | null,
): PreparedBody {
  if (body === undefined && requestStream) return new RequestBody(requestStream);
  if (body === null || body === undefined) return NO_BODY;
  if (typeof body === 'function') return new FactoryBody(body);
  if (typeof body === 'string' || isBlob(body)) return new FixedBody(body, undefined);
  if (body instanceof ArrayBuffer) return new FixedBody(body.slice(0), undefined);
  if (ArrayBuffer.isView(body)) {
    const copy = new Uint8Array(body.byteLength);
    copy.set(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
    return new FixedBody(copy, undefined);
  }
  if (body instanceof URLSearchParams)
    return new FixedBody(body.toString(), 'application/x-www-form-urlencoded;charset=UTF-8');
  if (isFormData(body)) return new FormDataBody(body);
  return new OneShotBody(body);
}

/** Whether a value is a stream body, which fetch can only send with `duplex: 'half'`. */
export function isStreamBody(body: unknown): boolean {
  return (
    (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) ||
    (typeof body === 'object' && body !== null && Symbol.asyncIterator in body)
  );
}

async function serialiseFormData(form: FormData): Promise<AttemptBody> {
  const serialised = new Response(form);
  const contentType = serialised.headers.get('content-type') ?? undefined;
  const bytes = await serialised.arrayBuffer();
  return { body: new Blob([bytes], contentType === undefined ? {} : { type: contentType }), contentType };
}

/** Reads a stream to its end; cancels it with `signal.reason` and rejects with that when `signal` aborts. */
async function readAll(
  stream: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): Promise<Uint8Array<ArrayBuffer>> {
  signal.throwIfAborted();
  const reader = stream.getReader();
  const cancel = (): void => void reader.cancel(signal.reason).catch(() => undefined);
  signal.addEventListener('abort', cancel, { once: true });
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      // A cancelled reader ends its pending read as done.
      signal.throwIfAborted();
      if (done) break;
      chunks.push(value);
      length += value.byteLength;
    }
  } finally {
    signal.removeEventListener('abort', cancel);
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function isBlob(value: unknown): value is Blob {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}

function isFormData(value: unknown): value is FormData {
  return typeof FormData !== 'undefined' && value instanceof FormData;
}
