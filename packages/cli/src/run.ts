import { createInterface } from 'node:readline/promises';
import { computeStoreKey } from '@oncely/server';
import type { IdempotencyRecord } from '@oncely/server';
import { USAGE, UsageError, parseCommand } from './args.js';
import type { Command } from './args.js';
import { describeRecord, viewRecord } from './describe-record.js';
import { MissingPackageError, openStore } from './open-store.js';
import type { OpenStore } from './open-store.js';

/** Where the command reads and writes; the real process's streams, or a test's. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  /** Whether a person can answer a prompt (stdin and stderr are terminals). */
  interactive: boolean;
  now: () => number;
}

export const ExitCode = { done: 0, notFound: 1, usage: 2, storeFailed: 3 } as const;

/** Runs `oncely <argv…>`; resolves to the exit code. Never rejects. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const write = (stream: NodeJS.WritableStream, text: string) => void stream.write(`${text}\n`);
  let command: Command | 'help';
  try {
    command = parseCommand(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    write(io.stderr, `oncely: ${error.message}\n\n${USAGE}`);
    return ExitCode.usage;
  }
  if (command === 'help') {
    write(io.stdout, USAGE);
    return ExitCode.done;
  }
  if (command.action === 'purge' && !command.yes && !io.interactive) {
    write(io.stderr, 'oncely: purge asks for confirmation on a terminal; pass --yes to purge without one.');
    return ExitCode.usage;
  }
  // The engine's own function: the CLI finds exactly the record the server reads and writes.
  const storeKey = await computeStoreKey(command.scope, command.key);
  let opened: OpenStore;
  try {
    opened = await openStore(command.backend);
  } catch (error) {
    write(io.stderr, `oncely: ${messageOf(error)}`);
    return error instanceof MissingPackageError ? ExitCode.usage : ExitCode.storeFailed;
  }
  try {
    return await inspectOrPurge(command, storeKey, opened, io, write);
  } catch (error) {
    write(io.stderr, `oncely: the store failed: ${messageOf(error)}`);
    return ExitCode.storeFailed;
  } finally {
    await opened.close().catch(() => undefined);
  }
}

async function inspectOrPurge(
  command: Command,
  storeKey: string,
  { store, label }: OpenStore,
  io: CliIo,
  write: (stream: NodeJS.WritableStream, text: string) => void,
): Promise<number> {
  const ids = { storeKey, scope: command.scope, key: command.key };
  const record = await store.get(storeKey);
  const now = io.now();
  if (record === undefined) {
    if (command.json) write(io.stdout, JSON.stringify({ found: false, ...ids }));
    else
      write(
        io.stdout,
        `No record for key ${JSON.stringify(command.key)} in scope ${JSON.stringify(command.scope)} in ${label} (store key ${storeKey}).`,
      );
    return ExitCode.notFound;
  }
  const view = viewRecord(ids, record, now);
  if (!command.json) write(io.stdout, `Record in ${label}:\n${describeRecord(view, record, now)}`);
  if (command.action === 'inspect') {
    if (command.json) write(io.stdout, JSON.stringify({ found: true, record: view }));
    return ExitCode.done;
  }
  if (!command.yes && !(await confirm(io, record, now))) {
    write(io.stderr, 'oncely: not purged.');
    return ExitCode.usage;
  }
  const deleted = await store.delete(storeKey);
  if (command.json) write(io.stdout, JSON.stringify({ found: true, record: view, deleted }));
  else
    write(
      io.stdout,
      deleted ? 'Purged: the next request with this key runs the handler again.' : 'Already gone.',
    );
  return deleted ? ExitCode.done : ExitCode.notFound;
}

/** Asks on the terminal; only `y` or `yes` purges. */
async function confirm(io: CliIo, record: IdempotencyRecord, now: number): Promise<boolean> {
  const risk =
    record.status === 'in_progress' && record.leaseExpiresAt > now
      ? 'Its lease is live: a request may still be running it. That run will be fenced out, and a retry now runs the handler again, possibly while the first still runs.'
      : 'The next request with this key runs the handler again.';
  const prompt = createInterface({ input: io.stdin, output: io.stderr });
  try {
    const answer = await prompt.question(`${risk}\nPurge this record? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
