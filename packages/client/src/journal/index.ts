// @oncely/client/journal: operations that survive the client. Turn it on with
// `createFetch({ journal })`; the file backend is in '@oncely/client/journal/file' so that Node's fs
// never reaches a browser bundle.
export { createMemoryJournal } from './memory-journal.js';
export { createIndexedDbJournal } from './indexeddb-journal.js';
export type { IndexedDbJournalOptions } from './indexeddb-journal.js';
export { DEFAULT_MAX_AGE, resumePending } from './resume.js';
export type { DropEvent, ResumeOptions, ResumeOutcome, ResumeRun, ResumedOperation } from './resume.js';
export { resumeWhenOnline } from './online.js';
export type { ResumeWhenOnlineOptions } from './online.js';
export type {
  Journal,
  JournalCallOptions,
  JournalClientOptions,
  JournalEntry,
  JournalSettings,
  JournaledBody,
} from './types.js';
