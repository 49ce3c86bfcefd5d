import type { Redis } from 'ioredis';

/** One charge the payments API made. */
export interface Charge {
  chargeId: string;
  paymentId: string;
  amount: number;
}

/**
 * Where the payments API records charges: the "effects" the demo counts. Every handler execution
 * charges once; a payment charged more than once is money taken twice.
 */
export interface Ledger {
  charge(paymentId: string, amount: number): Promise<Charge>;
  /** Charges per payment id. */
  chargesByPayment(): Promise<Map<string, Charge[]>>;
  close(): Promise<void>;
}

/** A ledger in this process's memory (the demo's default, one server instance). */
export function createMemoryLedger(): Ledger {
  const charges = new Map<string, Charge[]>();
  let next = 0;
  return {
    async charge(paymentId, amount) {
      const charge = { chargeId: `ch_${++next}`, paymentId, amount };
      charges.set(paymentId, [...(charges.get(paymentId) ?? []), charge]);
      return charge;
    },
    async chargesByPayment() {
      return new Map(charges);
    },
    async close() {},
  };
}

/** A ledger in Redis, shared by several server instances (`--store redis`). */
export function createRedisLedger(redis: Redis, namespace: string): Ledger {
  const listKey = `${namespace}:charges`;
  const counterKey = `${namespace}:next`;
  return {
    async charge(paymentId, amount) {
      const id = await redis.incr(counterKey);
      const charge = { chargeId: `ch_${id}`, paymentId, amount };
      await redis.rpush(listKey, JSON.stringify(charge));
      return charge;
    },
    async chargesByPayment() {
      const rows = await redis.lrange(listKey, 0, -1);
      const byPayment = new Map<string, Charge[]>();
      for (const row of rows) {
        const charge = JSON.parse(row) as Charge;
        byPayment.set(charge.paymentId, [...(byPayment.get(charge.paymentId) ?? []), charge]);
      }
      return byPayment;
    },
    async close() {
      await redis.del(listKey, counterKey);
    },
  };
}
