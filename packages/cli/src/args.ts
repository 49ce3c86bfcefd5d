import { parseArgs } from 'node:util';
import { describeKeyProblem, parseIdempotencyKeyHeader } from '@oncely/core';

/** Where the records are. */
export type Backend =
  | { kind: 'redis'; url: string; prefix: string | undefined }
  | { kind: 'postgres'; url: string; table: string | undefined; schema: string | undefined }
  | { kind: 'sqlite'; file: string };

/** One run of the command. */
export interface Command {
  action: 'inspect' | 'purge';
  /** The idempotency key, as the engine reads it from the header. */
  key: string;
  scope: string;
  backend: Backend;
  /** Purge without asking. */
  yes: boolean;
  /** Print JSON instead of text. */
  json: boolean;
}

export const USAGE = `Usage:
  oncely inspect <key> --scope <scope> <store> [--json]
  oncely purge <key> --scope <scope> <store> [--yes] [--json]

Shows the idempotency record of <key> in <scope> (state, lease holder and expiry, expiry, fingerprint,
stored response), or deletes it so the next request with that key runs again.

  <key>             the Idempotency-Key as the client sent it (bare, or quoted as a Structured Field)
  --scope <scope>   what the server's \`scope\` option returned for the request ('global' if it is global)

<store>, one of:
  --redis <url>     RedisStore, e.g. redis://127.0.0.1:6379   [--prefix <p>] (default: oncely)
  --postgres <url>  PostgresStore                              [--table <t>] [--schema <s>]
  --sqlite <file>   SqliteStore (needs @oncely/sqlite)

  --yes             purge without asking (required when not on a terminal)
  --json            print the record as JSON
  -h, --help        this text

Exit codes: 0 done, 1 no such record, 2 bad usage or purge not confirmed, 3 the store failed.
`;

/** A mistake in the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses `argv` (without node and the script); `'help'` when help was asked for. */
export function parseCommand(argv: readonly string[]): Command | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        scope: { type: 'string' },
        redis: { type: 'string' },
        prefix: { type: 'string' },
        postgres: { type: 'string' },
        table: { type: 'string' },
        schema: { type: 'string' },
        sqlite: { type: 'string' },
        yes: { type: 'boolean', short: 'y' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help === true || positionals.length === 0) return 'help';
  const [action, rawKey, ...extra] = positionals;
  if (action !== 'inspect' && action !== 'purge') {
    throw new UsageError(`Unknown command ${JSON.stringify(action)}: expected inspect or purge.`);
  }
  if (rawKey === undefined) throw new UsageError(`${action} needs the idempotency key.`);
  if (extra.length > 0) throw new UsageError(`Unexpected arguments: ${extra.join(' ')}.`);
  const key = parseIdempotencyKeyHeader(rawKey);
  if (!key.ok) {
    const why =
      key.problem === 'malformed-quoted-string'
        ? 'it starts with a quote but is not one well-formed Structured Field string'
        : describeKeyProblem(key.problem);
    throw new UsageError(`Invalid idempotency key: ${why}; the server never stores such a key.`);
  }
  if (values.scope === undefined || values.scope === '') {
    throw new UsageError("--scope is required: the tenant, user or API key, or 'global'.");
  }
  return {
    action,
    key: key.key,
    scope: values.scope,
    backend: backendOf(values),
    yes: values.yes === true,
    json: values.json === true,
  };
}

function backendOf(values: Record<string, string | boolean | undefined>): Backend {
  const given = (['redis', 'postgres', 'sqlite'] as const).filter((name) => values[name] !== undefined);
  if (given.length !== 1) {
    throw new UsageError(
      given.length === 0
        ? 'Name the store: --redis <url>, --postgres <url> or --sqlite <file>.'
        : `Name one store, not ${given.map((name) => `--${name}`).join(' and ')}.`,
    );
  }
  const text = (name: string) => (typeof values[name] === 'string' ? values[name] : undefined);
  const misplaced = (names: string[], store: string) => {
    const found = names.filter((name) => values[name] !== undefined);
    if (found.length > 0) throw new UsageError(`--${found[0]} does not apply to ${store}.`);
  };
  switch (given[0]) {
    case 'redis':
      misplaced(['table', 'schema'], '--redis');
      return { kind: 'redis', url: text('redis')!, prefix: text('prefix') };
    case 'postgres':
      misplaced(['prefix'], '--postgres');
      return { kind: 'postgres', url: text('postgres')!, table: text('table'), schema: text('schema') };
    default:
      misplaced(['prefix', 'table', 'schema'], '--sqlite');
      return { kind: 'sqlite', file: text('sqlite')! };
  }
}
