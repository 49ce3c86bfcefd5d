/** The faults the proxy injects, each with the probability of hitting one request. */
export interface FaultRates {
  /** Forward, let the upstream answer (the effect happened), then cut the client's connection. */
  dropResponse?: number;
  /** Cut the client's connection as the request arrives: the upstream never sees it. */
  resetRequest?: number;
  /** Forward, then send the response head and half the body, then cut the connection. */
  resetResponse?: number;
  /** Hold the request for `delayMs` before forwarding (past the client's attempt timeout). */
  delay?: number;
  /** Forward the request twice at once, as a duplicating network or load balancer would. */
  duplicate?: number;
  /** Forward, then send the response body in small chunks, slowly. */
  slowBody?: number;
  /** Start a burst of 503s with Retry-After, answered by the proxy without forwarding. */
  burst503?: number;
}

export type FaultKind = keyof FaultRates;

export const FAULT_KINDS: readonly FaultKind[] = [
  'dropResponse',
  'resetRequest',
  'resetResponse',
  'delay',
  'duplicate',
  'slowBody',
  'burst503',
];

/** Picks at most one fault for a request from one uniform draw over the cumulative rates. */
export function pickFault(rates: FaultRates, draw: number): FaultKind | undefined {
  let cumulative = 0;
  for (const kind of FAULT_KINDS) {
    cumulative += rates[kind] ?? 0;
    if (draw < cumulative) return kind;
  }
  return undefined;
}

/** Checks that every rate is in [0, 1] and that they add up to at most 1. */
export function validateRates(rates: FaultRates): void {
  let total = 0;
  for (const [kind, rate] of Object.entries(rates)) {
    if (!FAULT_KINDS.includes(kind as FaultKind))
      throw new Error(`Unknown fault kind ${JSON.stringify(kind)}.`);
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
      throw new Error(`Fault rate ${kind} must be a number in [0, 1], got ${String(rate)}.`);
    }
    total += rate;
  }
  if (total > 1) throw new Error(`Fault rates add up to ${total.toFixed(3)}, more than 1.`);
}
