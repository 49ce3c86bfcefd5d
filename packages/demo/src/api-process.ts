// A payments API in a process of its own (`--store sqlite`, the restart step). Started by
// `startApiProcess`; configured by environment: STORE (memory | sqlite) and DATABASE, the SQLite file of
// the ledger (and, with sqlite, of the idempotency records). Reports its URL over IPC, closes on
// SIGTERM (in-flight requests finish, as in a deploy) and dies with its parent.
import { MemoryStore } from '@oncely/server';
import type { IdempotencyStore } from '@oncely/server';
import { SqliteStore } from '@oncely/sqlite';
import { startPaymentsApi } from './payments-api.js';
import { createSqliteLedger } from './sqlite-ledger.js';

const filename = process.env.DATABASE ?? '';
const store: IdempotencyStore =
  process.env.STORE === 'sqlite' ? new SqliteStore({ filename }) : new MemoryStore();
const ledger = createSqliteLedger(filename);
const api = await startPaymentsApi(store, ledger);
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => {
  void api.close().finally(() => process.exit(0));
});
process.send?.({ url: api.url });
