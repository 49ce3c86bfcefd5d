import Database from 'better-sqlite3';
import type { Charge, Ledger } from './ledger.js';

/**
 * A ledger in a SQLite file: the payments API's own database, shared by its processes and kept across
 * their restarts (`--store sqlite` and the restart step). Opening it creates the table when missing.
 */
export function createSqliteLedger(filename: string): Ledger {
  const db = new Database(filename);
  db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE IF NOT EXISTS charges (
    id INTEGER PRIMARY KEY AUTOINCREMENT, payment_id TEXT NOT NULL, amount INTEGER NOT NULL)`);
  const insert = db.prepare('INSERT INTO charges (payment_id, amount) VALUES (?, ?)');
  const all = db.prepare('SELECT id, payment_id, amount FROM charges ORDER BY id');
  return {
    async charge(paymentId, amount) {
      const { lastInsertRowid } = insert.run(paymentId, amount);
      return { chargeId: `ch_${lastInsertRowid}`, paymentId, amount };
    },
    async chargesByPayment() {
      const byPayment = new Map<string, Charge[]>();
      for (const row of all.all() as Array<{ id: number; payment_id: string; amount: number }>) {
        const charge = { chargeId: `ch_${row.id}`, paymentId: row.payment_id, amount: row.amount };
        byPayment.set(row.payment_id, [...(byPayment.get(row.payment_id) ?? []), charge]);
      }
      return byPayment;
    },
    async close() {
      db.close();
    },
  };
}
