/**
 * A request body as the journal keeps it: text as is (readable in a file journal), any other bytes
 * as base64. JSON-safe, so any database can hold it.
 */
export type JournaledBody = { readonly text: string } | { readonly base64: string };

/**
 * One pending operation: everything needed to send it again, with its original key, after the
 * process that made it is gone. A plain JSON-safe object.
 */
export interface JournalEntry {
  /** The operation's id: the `operationId` the caller chose, else its idempotency key. */
  readonly id: string;
  /** The key sent with every attempt, and with every resumed attempt. */
  readonly idempotencyKey: string;
  readonly method: string;
  /** The absolute URL. */
  readonly url: string;
  /** Header names (lower case) and values that are replayed: credentials are left out unless kept. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: JournaledBody | null;
  /** When the operation was first recorded, in ms since the epoch (`Date.now()`). */
  readonly createdAt: number;
}

/**
 * Where pending operations are kept. Three methods, so an app's own database can be one: a table
 * with a unique `id` column is enough.
 *
 * Atomicity needed: `record` is "insert unless an entry with this id exists" as one step (two callers
 * recording the same id at once must both get the same entry back), and it resolves only once the
 * entry is durable — the first attempt is sent right after. `remove` deletes only the entry whose key
 * matches, so a late removal never deletes a newer entry that reuses the id.
 */
export interface Journal {
  /**
   * Records `entry` unless an entry with the same `id` is pending; resolves with the pending entry
   * (the existing one, whose key the call then uses, or `entry`) once it is durable.
   */
  record(entry: JournalEntry): Promise<JournalEntry>;
  /** Removes the entry with this `id` when its key is `idempotencyKey`; does nothing otherwise. */
  remove(id: string, idempotencyKey: string): Promise<void>;
  /** Every pending entry (any order: `resumePending` sorts them by `createdAt`). */
  list(): Promise<JournalEntry[]>;
}

/** The `journal` option of `createFetch` in its long form. */
export interface JournalSettings {
  /** Where pending operations are kept. */
  backend: Journal;
  /**
   * Credential headers to journal anyway (names, any case). By default Authorization,
   * Proxy-Authorization, Cookie and names that read as credentials (`x-api-key`, `*-token`,
   * `*-secret`, `*-session`, `*-auth*`, `*-signature`, …) are left out: a resumed call gets fresh
   * credentials from `resumePending`'s `headers` hook.
   * @default []
   */
  keepHeaders?: readonly string[] | undefined;
  /**
   * Called when an entry could not be removed after its call settled (the call's own outcome is
   * unchanged; a later `resumePending` re-sends it and the server replays the stored answer).
   * @default console.warn
   */
  onError?: ((error: unknown, entry: JournalEntry) => void) | undefined;
}

/** The client option that turns the journal on (`createFetch`). */
export interface JournalClientOptions {
  /**
   * Records each keyed call before its first attempt and removes it once the server kept an answer,
   * so `resumePending` can re-send it with its original key after a crash, a reload or an offline
   * period. A {@link Journal} (`createMemoryJournal()`, `createIndexedDbJournal()`,
   * `createFileJournal(dir)` from `@oncely/client/journal/file`, or your own), or {@link JournalSettings}.
   * @default undefined (no journal)
   */
  journal?: Journal | JournalSettings | undefined;
}

/** Per-call options of a journaled client. */
export interface JournalCallOptions {
  /**
   * Names the logical operation. A call whose `operationId` is still pending in the journal reuses
   * the pending key (and a resumed call is sent under it) instead of making a new one, so the server
   * can tell a second try from a second order.
   * @default the call's idempotency key (each call is its own operation)
   */
  operationId?: string | undefined;
  /** `false`: do not journal this call (e.g. a streamed upload). @default true when the client has a journal */
  journal?: boolean | undefined;
}
