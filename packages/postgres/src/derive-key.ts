import { createHash } from 'node:crypto';

/** Namespace of derived keys (a fixed random UUID), so they never collide with other name-based UUIDs. */
const NAMESPACE = Buffer.from('5b0c1f6e8a2d4c7fb3e19d40a6c2e871', 'hex');

/**
 * A deterministic idempotency key for one downstream call made while handling `idempotencyKey`:
 * the same key and step always give the same key, different steps give unrelated keys. Retries of the
 * request (and a takeover after a crash) therefore send the same key to the downstream API, which
 * then applies that call once.
 *
 * The result is a name-based UUID version 8 built from SHA-256 (RFC 9562 §5.8 and Appendix B.2):
 * `SHA-256(namespace ‖ UTF-8(JSON.stringify([idempotencyKey, step])))`, first 16 bytes, version and
 * variant bits set. JSON encoding keeps `('a:b', 'c')` and `('a', 'b:c')` apart.
 *
 * @example
 * await payments.charge(order, { idempotencyKey: deriveKey(key, 'charge') });
 * await mailer.send(receipt, { idempotencyKey: deriveKey(key, 'receipt-email') });
 */
export function deriveKey(idempotencyKey: string, step: string): string {
  if (typeof idempotencyKey !== 'string' || idempotencyKey.length === 0) {
    throw new TypeError(
      `deriveKey: \`idempotencyKey\` must be a non-empty string, got ${String(idempotencyKey)}.`,
    );
  }
  if (typeof step !== 'string' || step.length === 0) {
    throw new TypeError(`deriveKey: \`step\` must be a non-empty string, got ${String(step)}.`);
  }
  const hash = createHash('sha256')
    .update(NAMESPACE)
    .update(JSON.stringify([idempotencyKey, step]))
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80; // version 8
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
