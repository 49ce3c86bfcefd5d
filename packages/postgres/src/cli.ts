#!/usr/bin/env node
// oncely-postgres-migrate: creates the PostgresStore table, or prints its SQL with --print.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { migrate, migrationSql } from './migrate.js';

const USAGE = `Usage: oncely-postgres-migrate [--print] [--schema <name>] [--table <name>] [--url <postgres-url>]

Creates the table of @oncely/postgres when missing (idempotent, safe to run concurrently).
  --print        print the SQL instead of running it
  --schema       schema of the table (default: public)
  --table        table name (default: oncely_idempotency)
  --url          connection string (default: $DATABASE_URL)
`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      print: { type: 'boolean' },
      schema: { type: 'string' },
      table: { type: 'string' },
      url: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const options = { schema: values.schema, table: values.table };
  if (values.print === true) {
    process.stdout.write(migrationSql(options));
    return 0;
  }
  const connectionString = values.url ?? process.env.DATABASE_URL;
  if (connectionString === undefined) {
    process.stderr.write(`No database: pass --url or set DATABASE_URL.\n\n${USAGE}`);
    return 2;
  }
  const pool = new pg.Pool({ connectionString, max: 1 });
  try {
    await migrate(pool, options);
    process.stdout.write(
      `Migrated ${options.schema ?? 'public'}.${options.table ?? 'oncely_idempotency'}.\n`,
    );
    return 0;
  } finally {
    await pool.end();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
