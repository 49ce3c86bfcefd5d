import pg from 'pg';

/** Where the tests find PostgreSQL: `DATABASE_URL`, or the local default on a developer machine. */
export const DATABASE_URL =
  process.env.DATABASE_URL ??
  (process.env.CI === 'true' ? undefined : 'postgres://postgres@127.0.0.1:5432/test');

/**
 * Resolves to why the PostgreSQL tests must be skipped, or `undefined` when the database answers. On CI
 * (`CI=true`) an unreachable database is a failure, never a skip: it throws.
 */
export async function postgresUnavailableReason(): Promise<string | undefined> {
  const onCi = process.env.CI === 'true';
  if (DATABASE_URL === undefined) {
    if (onCi) throw new Error('DATABASE_URL is not set on CI: the PostgreSQL tests need a real database.');
    return 'DATABASE_URL is not set';
  }
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    const reason = `PostgreSQL at ${DATABASE_URL} is unreachable (${error instanceof Error ? error.message : String(error)})`;
    if (onCi) throw new Error(`${reason}; on CI the PostgreSQL tests must not be skipped.`);
    return reason;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A table name unique to this test run, so parallel runs never share rows. */
export function uniqueTable(name: string): string {
  return `oncely_test_${name}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}
