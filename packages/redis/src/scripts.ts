/**
 * The Lua scripts behind {@link RedisStore}. Each runs atomically on the Redis server, reads the
 * server's clock with `TIME` (so application servers with skewed clocks agree on lease and TTL
 * expiry), and touches only `KEYS[1]`, the record's hash, so it is Redis Cluster-safe.
 *
 * Hash fields: `s` status, `f` fingerprint, `t` fencing token, `l` lease expiry (epoch ms), `e` record
 * expiry (epoch ms), `rs` response status, `rh` response headers (JSON pairs), `b` body bytes (absent
 * when the body was not stored). Redis expires the hash itself at `e` (PEXPIRE).
 */

const CLOCK = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
`;

/**
 * KEYS[1] record; ARGV fingerprint, leaseMs, ttlMs.
 * Returns {'claimed', token, takeover} | {'in_progress', retryAfterMs} | {'mismatch'} |
 * {'completed', token, leaseExpiresAt, expiresAt, status, headersJson, body|nil}.
 *
 * A fencing token is max(previous + 1, server time in µs): it grows with every claim or takeover
 * even after the record was released (deleted) or expired, so a stale holder can never match again.
 */
export const CLAIM_SCRIPT = `${CLOCK}
local fp, leaseMs, ttlMs = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local rec = redis.call('HMGET', KEYS[1], 's', 'f', 't', 'l', 'e')
local status, token = rec[1], tonumber(rec[3])
local lease, expires = tonumber(rec[4]), tonumber(rec[5])
local takeover = 0
if status and expires and expires > now then
  if rec[2] ~= fp then return {'mismatch'} end
  if status == 'completed' then
    local res = redis.call('HMGET', KEYS[1], 'rs', 'rh', 'b')
    return {'completed', token, lease, expires, res[1], res[2], res[3]}
  end
  if lease and lease > now then return {'in_progress', lease - now} end
  takeover = 1
end
local newToken = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
if token and token >= newToken then newToken = token + 1 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 's', 'in_progress', 'f', fp, 't', string.format('%.0f', newToken),
  'l', string.format('%.0f', now + leaseMs), 'e', string.format('%.0f', now + ttlMs))
redis.call('PEXPIRE', KEYS[1], ttlMs)
return {'claimed', newToken, takeover}
`;

const GUARD = `
local rec = redis.call('HMGET', KEYS[1], 's', 't')
if rec[1] ~= 'in_progress' or tonumber(rec[2]) ~= tonumber(ARGV[1]) then return 0 end
`;

/** KEYS[1] record; ARGV token, status, headersJson, hasBody ('1'|'0'), body. Returns 1 or 0. */
export const COMPLETE_SCRIPT = `${GUARD}
redis.call('HSET', KEYS[1], 's', 'completed', 'rs', ARGV[2], 'rh', ARGV[3])
if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 'b', ARGV[5]) end
return 1
`;

/** KEYS[1] record; ARGV token. Returns 1 or 0. */
export const RELEASE_SCRIPT = `${GUARD}
redis.call('DEL', KEYS[1])
return 1
`;

/**
 * KEYS[1] record; ARGV token, leaseMs. Returns 1 or 0. Keeps the record alive at least as long as
 * the new lease, so a long handler never loses its record to the TTL mid-run.
 */
export const EXTEND_SCRIPT = `${GUARD}${CLOCK}
local lease = now + tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'l', string.format('%.0f', lease))
local expires = tonumber(redis.call('HGET', KEYS[1], 'e'))
if not expires or expires < lease then
  redis.call('HSET', KEYS[1], 'e', string.format('%.0f', lease))
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
end
return 1
`;
