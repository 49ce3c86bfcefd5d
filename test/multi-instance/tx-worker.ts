// One "instance" of the transactional-mode crash test, at the store level: claims KEY, then runs a
// handler that writes the ledger inside the store's transaction. MODE:
//   crash-before-commit  SIGKILL itself after the business write, before the commit
//   crash-after-commit   SIGKILL itself after the commit, before reporting
//   normal               report the outcome as JSON on stdout
// (postgres-transactional.test.ts drives the same crashes through the HTTP engine.)
import pg from 'pg';
import { PostgresStore, isTransactionalStore } from '@oncely/postgres';

const { DATABASE_URL, TABLE, LEDGER_TABLE, KEY, MODE, LEASE_MS } = process.env as Record<string, string>;
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
const store = new PostgresStore({ pool, table: TABLE!, transactional: true });
if (!isTransactionalStore(store)) throw new Error('expected transactional mode');

const claim = await store.claim({ key: KEY!, fingerprint: 'fp', leaseMs: Number(LEASE_MS), ttlMs: 60_000 });
let outcome: string | undefined;
if (claim.outcome === 'claimed') {
  outcome = await store.executeTransactionally(KEY!, claim.fencingToken, async () => {
    await store
      .currentTransaction()
      .query(`INSERT INTO "${LEDGER_TABLE}" (key, instance) VALUES ($1, $2)`, [KEY, String(process.pid)]);
    if (MODE === 'crash-before-commit') process.kill(process.pid, 'SIGKILL');
    return {
      action: 'complete',
      response: { status: 201, headers: [], body: Buffer.from(String(process.pid)) },
    };
  });
  if (MODE === 'crash-after-commit') process.kill(process.pid, 'SIGKILL');
}
process.stdout.write(
  `${JSON.stringify({ claim: claim.outcome, takeover: 'takeover' in claim && claim.takeover, outcome })}\n`,
);
await pool.end();
