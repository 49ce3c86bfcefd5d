import Database from 'better-sqlite3';
import type { ResolvedSqliteStoreOptions } from './options.js';
import { schemaSql } from './schema.js';
import type { StatementSql } from './schema.js';

export type Connection = Database.Database;
export type Statements<Name extends keyof StatementSql> = Record<Name, Database.Statement>;

/**
 * Opens a connection of the store: SQLite's busy timeout off (the store waits asynchronously, see
 * `whenUnlocked`), the configured `synchronous`, attached files, then the user's `onConnection`.
 * Opening takes no lock; a path that cannot be opened throws here.
 */
export function openConnection(options: ResolvedSqliteStoreOptions): Connection {
  const db = new Database(options.filename, { timeout: 0 });
  try {
    db.pragma(`synchronous = ${options.synchronous.toUpperCase()}`);
    for (const [schema, filename] of options.attach) {
      db.prepare(`ATTACH DATABASE ? AS "${schema}"`).run(filename);
    }
    options.onConnection?.(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Sets the journal mode and creates the table when missing. Idempotent, so every process runs it on
 * first use; a concurrent run in another process makes it throw `SQLITE_BUSY`, and the caller retries.
 */
export function migrate(db: Connection, options: ResolvedSqliteStoreOptions): void {
  // In WAL mode the attached files keep their own journal; with 'delete' they must use it too, or a
  // commit across files is not atomic.
  const schemas = ['main', ...(options.journalMode === 'delete' ? options.attach.map(([s]) => s) : [])];
  for (const schema of schemas) {
    if (db.pragma(`"${schema}".journal_mode`, { simple: true }) === options.journalMode) continue;
    const mode = db.pragma(`"${schema}".journal_mode = ${options.journalMode.toUpperCase()}`, {
      simple: true,
    });
    if (mode !== options.journalMode) {
      throw new Error(
        `could not set journal_mode ${options.journalMode} on ${schema} (it stays ${String(mode)})`,
      );
    }
  }
  db.transaction(() => db.exec(schemaSql(options.table)))();
}

/** Prepares the named statements on `db` (the table must exist). */
export function prepare<Name extends keyof StatementSql>(
  db: Connection,
  sql: StatementSql,
  names: readonly Name[],
): Statements<Name> {
  return Object.fromEntries(names.map((name) => [name, db.prepare(sql[name])])) as Statements<Name>;
}
