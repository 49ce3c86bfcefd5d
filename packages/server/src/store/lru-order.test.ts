import { describe, expect, it } from 'vitest';
import { LruOrder } from './lru-order.js';

/** Evicts like RecordRoom: the value handed out is deleted, or moved to the back when `keep` says so. */
function evict(order: LruOrder<string>, keep: (value: string) => boolean = () => false): string | undefined {
  for (let value = order.next(); value !== undefined; value = order.next()) {
    if (!keep(value)) {
      order.delete(value);
      return value;
    }
    order.moveToBack(value, value);
  }
  return undefined;
}

describe('LruOrder', () => {
  it('hands out the oldest first, across additions made after the cursor started', () => {
    const order = new LruOrder<string>();
    for (const key of ['a', 'b', 'c']) order.add(key, key);
    expect(evict(order)).toBe('a');
    order.add('d', 'd');
    expect([evict(order), evict(order), evict(order), evict(order)]).toEqual(['b', 'c', 'd', undefined]);
    expect(order.size).toBe(0);
    order.add('e', 'e');
    expect(evict(order)).toBe('e');
  });

  it('puts a used value behind the others, and reaches it again after them', () => {
    const order = new LruOrder<string>();
    for (const key of ['a', 'b', 'c']) order.add(key, key);
    const used = new Set(['a']);
    const keepUsedOnce = (value: string): boolean => used.delete(value);
    expect(evict(order, keepUsedOnce)).toBe('b');
    expect(evict(order, keepUsedOnce)).toBe('c');
    expect(evict(order, keepUsedOnce)).toBe('a');
  });

  it('skips values deleted out of order (released or expired records)', () => {
    const order = new LruOrder<string>();
    for (const key of ['a', 'b', 'c', 'd']) order.add(key, key);
    expect(evict(order)).toBe('a');
    order.delete('b');
    order.delete('d');
    expect(evict(order)).toBe('c');
    expect(evict(order)).toBeUndefined();
  });

  it('keeps LRU order through many evictions of a full queue', () => {
    const order = new LruOrder<string>();
    for (let i = 0; i < 100; i++) order.add(`k${i}`, `k${i}`);
    for (let i = 100; i < 5000; i++) {
      expect(evict(order)).toBe(`k${i - 100}`);
      order.add(`k${i}`, `k${i}`);
    }
    order.clear();
    expect(order.next()).toBeUndefined();
  });
});
