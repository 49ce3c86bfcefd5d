// The ledger: one PostgreSQL table per scenario run, one row per effect a handler applied. It is the
// ground truth the suite checks the client's view and the store against.
import type pg from 'pg';
import { uniqueTable } from '../../packages/postgres/src/test-support.js';

export interface LedgerRow {
  op: string;
  effectId: string;
  pid: number;
}

export class Ledger {
  private constructor(
    private readonly pool: pg.Pool,
    readonly table: string,
  ) {}

  static async create(pool: pg.Pool, name: string): Promise<Ledger> {
    const table = uniqueTable(`ledger_${name.replaceAll('-', '_').slice(0, 16)}`);
    await pool.query(
      `CREATE TABLE "${table}" (op text NOT NULL, effect_id uuid NOT NULL, instance text NOT NULL,
        pid integer NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    );
    return new Ledger(pool, table);
  }

  async rows(): Promise<LedgerRow[]> {
    const { rows } = await this.pool.query<{ op: string; effect_id: string; pid: number }>(
      `SELECT op, effect_id, pid FROM "${this.table}"`,
    );
    return rows.map((row) => ({ op: row.op, effectId: row.effect_id, pid: row.pid }));
  }

  async drop(): Promise<void> {
    await this.pool.query(`DROP TABLE IF EXISTS "${this.table}"`);
  }
}

/** Effects per operation, and how many operations had each count. */
export interface EffectTally {
  total: number;
  perOp: Map<string, LedgerRow[]>;
  /** `{ "0": n, "1": n, "2": n, … }` over the given operations. */
  histogram: Record<string, number>;
  /** Effects recorded for operations the clients never sent (must be 0). */
  strays: number;
}

export function tally(rows: readonly LedgerRow[], ops: readonly string[]): EffectTally {
  const perOp = new Map<string, LedgerRow[]>(ops.map((op) => [op, []]));
  let strays = 0;
  for (const row of rows) {
    const list = perOp.get(row.op);
    if (list === undefined) strays++;
    else list.push(row);
  }
  const histogram: Record<string, number> = {};
  for (const list of perOp.values()) histogram[list.length] = (histogram[list.length] ?? 0) + 1;
  return { total: rows.length, perOp, histogram, strays };
}
