import { createHash, randomUUID } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { invalidOptionError } from '@oncely/core';
import type { Journal, JournalEntry } from './types.js';

/** A journal in a directory, one file per pending operation. */
export interface FileJournal extends Journal {
  /** The directory, absolute. */
  readonly directory: string;
  /** Waits for writes in progress and releases the directory's lock. Later calls fail. */
  close(): Promise<void>;
}

const LOCK = 'journal.lock';
const ENTRY = /^[0-9a-f]{32}\.json$/;
/**
 * Directories this process holds, across every copy of this module (ESM and CJS builds): a lock file
 * naming this pid but not held here was left by an earlier process that had the same pid (a
 * restarted container).
 */
const HELD: Set<string> = ((globalThis as Record<symbol, unknown>)[
  Symbol.for('oncely.client.file-journal')
] ??= new Set<string>()) as Set<string>;

/**
 * A durable journal for Node: one JSON file per pending operation in `directory` (made if missing).
 *
 * - Atomic: an entry is written to a temporary file, flushed (fsync), renamed into place and the
 *   directory flushed, so a crash leaves the old state or the new one, never a torn file.
 * - One writer: the first use takes `journal.lock` (holding the pid); another process using the same
 *   directory fails with `ERR_ONCELY_JOURNAL_FAILED` while that pid lives. A lock left by a killed
 *   process is taken over. Use one directory per process (e.g. per worker), on a local disk.
 */
export function createFileJournal(directory: string): FileJournal {
  if (typeof directory !== 'string' || directory === '') {
    throw invalidOptionError('directory', directory, 'a directory path');
  }
  const dir = resolve(directory);
  const lockPath = join(dir, LOCK);
  const token = randomUUID();
  let opening: Promise<void> | undefined;
  let closed = false;
  /** The last operation on each entry file: operations on one id run one after another. */
  const chains = new Map<string, Promise<unknown>>();

  function ready(): Promise<void> {
    if (closed) return Promise.reject(new Error(`The file journal in ${dir} is closed.`));
    return (opening ??= openDirectory(dir, lockPath, token).catch((error: unknown) => {
      opening = undefined;
      throw error;
    }));
  }

  function exclusive<T>(id: string, work: (file: string) => Promise<T>): Promise<T> {
    const file = join(dir, `${createHash('sha256').update(id).digest('hex').slice(0, 32)}.json`);
    const run = (chains.get(file) ?? Promise.resolve()).then(() => ready().then(() => work(file)));
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    chains.set(file, settled);
    void settled.then(() => {
      if (chains.get(file) === settled) chains.delete(file);
    });
    return run;
  }

  return {
    directory: dir,
    record(entry) {
      return exclusive(entry.id, async (file) => {
        const pending = await readEntry(file);
        if (pending !== undefined) return pending;
        await writeAtomically(dir, file, `${JSON.stringify(entry)}\n`);
        return entry;
      });
    },
    remove(id, idempotencyKey) {
      return exclusive(id, async (file) => {
        if ((await readEntry(file))?.idempotencyKey !== idempotencyKey) return;
        // Synchronous (a metadata update, microseconds): the entry leaves the disk in the same run of
        // the event loop that hands the caller its answer, so no other callback — a crash handler, a
        // kill — comes between the journal forgetting the operation and the caller learning its outcome.
        // Not flushed: an unlink lost to a power cut brings the entry back, and resuming it gets the
        // server's stored answer again (within the server's ttl, which `maxAge` stays under).
        try {
          unlinkSync(file);
        } catch (error) {
          ignoreMissing(error);
        }
      });
    },
    async list() {
      await ready();
      const names = (await readdir(dir)).filter((name) => ENTRY.test(name));
      const entries = await Promise.all(names.map((name) => readEntry(join(dir, name))));
      return entries.filter((entry): entry is JournalEntry => entry !== undefined);
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(chains.values());
      if (opening === undefined) return;
      await opening.catch(() => undefined);
      const holder = await readLock(lockPath);
      if (holder?.token === token) await unlink(lockPath).catch(ignoreMissing);
      HELD.delete(dir);
    },
  };
}

interface LockHolder {
  pid: number;
  hostname: string;
  token: string;
}

async function openDirectory(dir: string, lockPath: string, token: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const me: LockHolder = { pid: process.pid, hostname: hostname(), token };
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lockPath, 'wx');
      try {
        await handle.writeFile(JSON.stringify(me));
        await handle.sync();
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readLock(lockPath);
    if (attempt > 0 || (holder !== undefined && holdsLock(holder, dir))) {
      throw new Error(
        `The file journal in ${dir} is in use by ${holder === undefined ? 'another process' : `process ${holder.pid} on ${holder.hostname}`} (${lockPath}): one writer per directory. Delete the lock file if that process is gone.`,
      );
    }
    await unlink(lockPath).catch(ignoreMissing);
  }
  HELD.add(dir);
  // Temporary files of writes a crash interrupted: never renamed into place, so never an entry.
  for (const name of await readdir(dir)) {
    if (name.endsWith('.tmp')) await unlink(join(dir, name)).catch(ignoreMissing);
  }
}

/** Whether the process a lock file names still holds it (unknowable on another host: assume so). */
function holdsLock(holder: LockHolder, dir: string): boolean {
  if (holder.hostname !== hostname()) return true;
  if (holder.pid === process.pid) return HELD.has(dir);
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLock(lockPath: string): Promise<LockHolder | undefined> {
  try {
    const holder = JSON.parse(await readFile(lockPath, 'utf8')) as Partial<LockHolder>;
    return typeof holder.pid === 'number' && typeof holder.hostname === 'string'
      ? (holder as LockHolder)
      : undefined;
  } catch {
    // Missing, or torn by a crash while it was written: nobody holds it.
    return undefined;
  }
}

async function readEntry(file: string): Promise<JournalEntry | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as JournalEntry;
  } catch {
    throw new Error(`The journal entry ${file} is not valid JSON; move it away to go on.`);
  }
}

async function writeAtomically(dir: string, file: string, text: string): Promise<void> {
  const temporary = `${file}.${randomUUID()}.tmp`;
  const handle = await open(temporary, 'wx');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(ignoreMissing);
    throw error;
  }
  await syncDirectory(dir);
}

/** Makes a rename durable (POSIX); directories cannot be opened for sync on Windows, where it is skipped. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
  } catch {
    return;
  }
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
