import {
  IDEMPOTENCY_KEY_HEADER,
  type KeyGenerator,
  SAFE_METHODS,
  assertIdempotencyKey,
  generateIdempotencyKey,
  invalidOptionError,
  parseIdempotencyKeyHeader,
} from '@oncely/core';
import { ClientErrorCode, OncelyClientError } from '../errors.js';
import type { OncelyFetch, OncelyRequestInit } from '../fetch.js';
import { journalableBody } from './journal-body.js';
import { type ResolvedJournal, replayableHeaders } from './journal-option.js';
import { isKeptAnswer, isSettledFailure } from './settle.js';
import type { JournalEntry } from './types.js';

/** A keyed call ready to be journaled and sent. */
export interface JournaledCall {
  /** The entry to record; the recorded one may differ (an earlier entry with the same id wins). */
  readonly entry: JournalEntry;
  readonly input: RequestInfo | URL;
  /** The call's init, with the journaled body and headers in place; the key is set from the entry. */
  readonly init: OncelyRequestInit;
}

/** How a journaled call ended, and whether its entry stays in the journal. */
export type CallOutcome = {
  readonly entry: JournalEntry;
  /** Still in the journal: a later `resumePending` re-sends it. */
  readonly pending: boolean;
} & ({ readonly response: Response } | { readonly error: unknown });

/**
 * A client's journal and the unjournaled fetch it wraps. Shared by the client's calls and by
 * `resumePending`, so both record, send and settle an operation by one rule.
 */
export class JournalBinding {
  /** Operation ids with a call in flight in this process: `resumePending` leaves them alone. */
  private readonly active = new Map<string, number>();

  constructor(
    private readonly run: OncelyFetch,
    readonly journal: ResolvedJournal,
    private readonly keyGenerator: KeyGenerator,
  ) {}

  isActive(id: string): boolean {
    return this.active.has(id);
  }

  /** The call as fetch sees it: journaled when it is keyed, passed through otherwise. */
  async fetch(input: RequestInfo | URL, init: OncelyRequestInit = {}): Promise<Response> {
    const call = await this.prepare(input, init);
    if (call === undefined) {
      const { operationId: _id, journal: _journal, ...rest } = init;
      return this.run(input, rest);
    }
    const outcome = await this.send(call);
    if ('error' in outcome) throw outcome.error;
    return outcome.response;
  }

  /**
   * Records the call's entry (or finds the pending one with its id, whose key is then used), sends
   * it through the client, and removes the entry once the server kept an answer.
   */
  async send(call: JournaledCall): Promise<CallOutcome> {
    let entry: JournalEntry;
    try {
      entry = checkRecorded(await this.journal.backend.record(call.entry), call.entry);
    } catch (cause) {
      throw new OncelyClientError(
        ClientErrorCode.journalFailed,
        `The journal could not record operation ${call.entry.id}, so it was not sent: ${describe(cause)}`,
        { cause, idempotencyKey: call.entry.idempotencyKey },
      );
    }
    const { id } = entry;
    this.active.set(id, (this.active.get(id) ?? 0) + 1);
    try {
      const signal = call.init.signal ?? (call.input instanceof Request ? call.input.signal : undefined);
      let outcome: CallOutcome;
      try {
        const response = await this.run(call.input, { ...call.init, idempotencyKey: entry.idempotencyKey });
        outcome = { entry, response, pending: !(await isKeptAnswer(response)) };
      } catch (error) {
        outcome = { entry, error, pending: !(await isSettledFailure(error, signal?.aborted === true)) };
      }
      if (outcome.pending) return outcome;
      try {
        await this.journal.backend.remove(id, entry.idempotencyKey);
        return outcome;
      } catch (error) {
        this.journal.onError(error, entry);
        return { ...outcome, pending: true };
      }
    } finally {
      const left = this.active.get(id)! - 1;
      if (left === 0) this.active.delete(id);
      else this.active.set(id, left);
    }
  }

  /**
   * The journaled form of a call, or `undefined` when it is not journaled: no key (a GET, or
   * `idempotencyKey: false`), `journal: false`, an already aborted signal (nothing will be sent), or
   * a URL that does not parse (fetch rejects it).
   */
  private async prepare(
    input: RequestInfo | URL,
    init: OncelyRequestInit,
  ): Promise<JournaledCall | undefined> {
    const { operationId, journal: use, ...rest } = init;
    if (use === false) return undefined;
    const request = typeof Request !== 'undefined' && input instanceof Request ? input : undefined;
    const method = rest.method ?? request?.method ?? 'GET';
    const headers = new Headers(rest.headers ?? request?.headers);
    const key = this.keyOf(rest.idempotencyKey, headers, method);
    const signal = rest.signal ?? request?.signal;
    const url = absoluteUrl(request?.url ?? (input as string | URL));
    if (key === undefined || signal?.aborted === true || url === undefined) return undefined;
    if (operationId !== undefined && (typeof operationId !== 'string' || operationId === '')) {
      throw invalidOptionError('operationId', operationId, 'a non-empty string');
    }
    const body = await journalableBody(
      rest.body !== undefined ? rest.body : request?.body ? await request.arrayBuffer() : null,
    );
    if (body === undefined) {
      throw new OncelyClientError(
        ClientErrorCode.bodyNotJournalable,
        `${method} ${url} was not sent: its body is a stream or a body factory, which the journal cannot keep. ` +
          'Pass a string, bytes, a Blob, FormData or URLSearchParams, or `journal: false` for this call.',
        { idempotencyKey: key },
      );
    }
    if (body.contentType !== undefined && !headers.has('content-type')) {
      headers.set('content-type', body.contentType);
    }
    const entry: JournalEntry = Object.freeze({
      id: operationId ?? key,
      idempotencyKey: key,
      method,
      url,
      headers: Object.freeze(replayableHeaders(headers, this.journal.keepHeaders)),
      body: body.record,
      createdAt: Date.now(),
    });
    return { entry, input, init: { ...rest, method, headers, body: body.send } };
  }

  /**
   * The call's key by the client's rule: the option, then the `Idempotency-Key` header, else a new
   * one for methods other than GET, HEAD, OPTIONS and TRACE. Minted here, not by the wrapped fetch,
   * because the journal must hold it before the first attempt.
   */
  private keyOf(option: string | false | undefined, headers: Headers, method: string): string | undefined {
    if (option === false) return undefined;
    if (option !== undefined) return assertIdempotencyKey(option, 'idempotencyKey');
    const header = headers.get(IDEMPOTENCY_KEY_HEADER);
    if (header !== null) {
      const parsed = parseIdempotencyKeyHeader(header);
      return parsed.ok ? parsed.key : assertIdempotencyKey(header, 'the Idempotency-Key header');
    }
    if (SAFE_METHODS.has(method.toUpperCase())) return undefined;
    return generateIdempotencyKey(this.keyGenerator);
  }
}

/** The URL fetch would request, made absolute (against the page or worker location in a browser). */
function absoluteUrl(input: string | URL): string | undefined {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(input instanceof URL ? input.href : String(input), base).href;
  } catch {
    return undefined;
  }
}

/** A backend's answer to `record`, checked: an app's own database may hand back anything. */
function checkRecorded(recorded: unknown, draft: JournalEntry): JournalEntry {
  const entry = recorded as Partial<JournalEntry> | null | undefined;
  if (entry?.id !== draft.id || typeof entry.idempotencyKey !== 'string') {
    throw new TypeError(
      `record() must resolve with the pending entry of id ${draft.id}, got ${describe(recorded)}.`,
    );
  }
  return entry as JournalEntry;
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.message;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
