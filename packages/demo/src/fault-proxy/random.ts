import { createHash } from 'node:crypto';

/** mulberry32: a small, fast, seedable PRNG; good enough to pick faults reproducibly. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A random source for one request, derived from the run's seed, what the request is (method, URL, body)
 * and how many times the same request was seen before. Arrival order under concurrency does not change
 * which faults a given request meets, so the same seed gives the same faults, run after run, and two
 * clients sending the same operations meet the same faults.
 */
export function requestRandom(seed: number, identity: string, occurrence: number): () => number {
  const digest = createHash('sha256').update(`${seed}\u0000${identity}\u0000${occurrence}`).digest();
  return mulberry32(digest.readUInt32LE(0));
}
