/**
 * The one handler every app runs, whatever the framework or library: read a small JSON order, "charge"
 * it (count the effect), answer 201 with a ~200-byte JSON payment. Kept trivial on purpose, so the
 * figures show what the idempotency layer costs, not what the handler does.
 */

export const PAYMENT_PATH = '/payments';

export const PAYMENT_REQUEST_BODY = JSON.stringify({
  amount: 4200,
  currency: 'eur',
  customer: 'cus_bench_0001',
  description: 'benchmark order',
});

export interface Payment {
  id: string;
  object: 'payment';
  amount: number;
  currency: string;
  customer: string;
  status: 'succeeded';
  description: string;
  created: number;
}

/** Side effects the handler performed: a replay must not add to it. */
export const effects = { count: 0 };

export function chargePayment(input: unknown): Payment {
  effects.count += 1;
  const order = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  return {
    id: `pay_${String(effects.count).padStart(12, '0')}`,
    object: 'payment',
    amount: typeof order.amount === 'number' ? order.amount : 0,
    currency: typeof order.currency === 'string' ? order.currency : 'eur',
    customer: typeof order.customer === 'string' ? order.customer : 'unknown',
    status: 'succeeded',
    description: typeof order.description === 'string' ? order.description : '',
    created: 1_767_225_600,
  };
}
