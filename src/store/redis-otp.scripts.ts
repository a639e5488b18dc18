// Each script touches only the keys of one address; they share a hash tag, so one slot.
// KEYS: 1 login (hash: id, email, attempts, codes), 2 cooldown (until, ms), 3 sends (zset of
// hash -> sent at), 4 failures (hash: n, locked_until, forget_at), 5 the login a
// right code ended, kept RESTORABLE_MS in case its sign-in cannot be recorded.
// Times are the caller's epoch ms; Redis TTLs only collect garbage.

const LIVE_CODES = `
local function live_codes(raw, now)
  local live = {}
  if raw then
    for _, code in ipairs(cjson.decode(raw)) do
      if tonumber(code[2]) > now then live[#live + 1] = code end
    end
  end
  return live
end
local function latest_expiry(codes)
  local latest = 0
  for _, code in ipairs(codes) do if tonumber(code[2]) > latest then latest = tonumber(code[2]) end end
  return latest
end
`;

const FAILURES = `
local function failures_of(now)
  local f = redis.call('HMGET', KEYS[4], 'n', 'locked_until', 'forget_at')
  if not f[1] or tonumber(f[3]) <= now then return 0, 0 end
  return tonumber(f[1]), tonumber(f[2])
end
`;

const SEND_LIMITS = `${FAILURES}
local function refused(now, max_per_hour)
  local _, lock_end = failures_of(now)
  if lock_end > now then return {'locked', lock_end} end
  local cooldown_until = tonumber(redis.call('GET', KEYS[2]) or '0')
  if cooldown_until > now then return {'cooldown', cooldown_until} end
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 3600000)
  if redis.call('ZCARD', KEYS[3]) >= max_per_hour then
    local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    return {'hourly_limit', tonumber(oldest[2]) + 3600000}
  end
  return nil
end
local function record_send(now, hash, cooldown_ms)
  redis.call('ZADD', KEYS[3], now, hash)
  redis.call('PEXPIRE', KEYS[3], 3600000)
  if cooldown_ms > 0 then redis.call('SET', KEYS[2], now + cooldown_ms, 'PX', cooldown_ms) end
  return now + cooldown_ms
end
`;

/** ARGV: loginId, email, codeHash, codeExpiresAt, now, cooldownMs, maxPerHour, maxAttempts */
export const START_LOGIN = `${SEND_LIMITS}
local now = tonumber(ARGV[5])
local no = refused(now, tonumber(ARGV[7]))
if no then return no end
local expires_at = tonumber(ARGV[4])
redis.call('DEL', KEYS[1], KEYS[5])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'email', ARGV[2], 'attempts', ARGV[8], 'codes', cjson.encode({{ARGV[3], expires_at}}))
redis.call('PEXPIRE', KEYS[1], math.max(1, expires_at - now))
return {'issued', record_send(now, ARGV[3], tonumber(ARGV[6])), ARGV[2]}
`;

/** ARGV: loginId, codeHash, codeExpiresAt, now, cooldownMs, maxPerHour, maxLiveCodes */
export const ADD_CODE = `${LIVE_CODES}${SEND_LIMITS}
local now = tonumber(ARGV[4])
local login = redis.call('HMGET', KEYS[1], 'id', 'email', 'codes')
if login[1] ~= ARGV[1] then return {'unknown_login'} end
local codes = live_codes(login[3], now)
if #codes == 0 then redis.call('DEL', KEYS[1]) return {'unknown_login'} end
local no = refused(now, tonumber(ARGV[6]))
if no then return no end
codes[#codes + 1] = {ARGV[2], tonumber(ARGV[3])}
while #codes > tonumber(ARGV[7]) do table.remove(codes, 1) end
redis.call('HSET', KEYS[1], 'codes', cjson.encode(codes))
redis.call('PEXPIRE', KEYS[1], math.max(1, latest_expiry(codes) - now))
return {'issued', record_send(now, ARGV[2], tonumber(ARGV[5])), login[2]}
`;

/**
 * ARGV: loginId, codeHash, now, maxFailed, failureWindowMs, firstLockMs, maxLockMs, maxInARow,
 * restorableMs. The lock schedule is lockMsAfter() in otp-store.ts.
 */
export const VERIFY = `${LIVE_CODES}${FAILURES}
local now = tonumber(ARGV[3])
local failures, lock_end = failures_of(now)
if lock_end > now then return {'locked', lock_end, redis.call('HGET', KEYS[1], 'email')} end
local login = redis.call('HMGET', KEYS[1], 'id', 'email', 'codes')
if login[1] ~= ARGV[1] then return {'expired'} end
local codes = live_codes(login[3], now)
if #codes == 0 then redis.call('DEL', KEYS[1]) return {'expired'} end
for _, code in ipairs(codes) do
  if code[1] == ARGV[2] then
    redis.call('RENAME', KEYS[1], KEYS[5])
    redis.call('HSET', KEYS[5], 'restorable_until', now + tonumber(ARGV[9]))
    redis.call('PEXPIRE', KEYS[5], ARGV[9])
    redis.call('DEL', KEYS[4])
    return {'verified', login[2]}
  end
end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', -1)
if attempts <= 0 then redis.call('DEL', KEYS[1]) end
failures = failures + 1
local max_failed, window = tonumber(ARGV[4]), tonumber(ARGV[5])
local lock_ms = 0
if failures >= tonumber(ARGV[8]) then
  lock_ms = math.max(window, tonumber(ARGV[7]))
elseif failures >= max_failed then
  lock_ms = math.min(tonumber(ARGV[6]) * 2 ^ (failures - max_failed), tonumber(ARGV[7]))
end
local new_lock_end = -1
if lock_ms > 0 then new_lock_end = now + lock_ms end
local forget_at = math.max(new_lock_end, now) + window
redis.call('HSET', KEYS[4], 'n', failures, 'locked_until', math.max(new_lock_end, 0), 'forget_at', forget_at)
redis.call('PEXPIRE', KEYS[4], forget_at - now)
return {'invalid', math.max(0, attempts), new_lock_end, login[2]}
`;

/** ARGV: loginId, now */
export const RESTORE_LOGIN = `${LIVE_CODES}
local ended = redis.call('HMGET', KEYS[5], 'id', 'codes', 'restorable_until')
if redis.call('EXISTS', KEYS[1]) == 1 or ended[1] ~= ARGV[1] or tonumber(ended[3]) <= tonumber(ARGV[2]) then return 0 end
local codes = live_codes(ended[2], tonumber(ARGV[2]))
if #codes == 0 then redis.call('DEL', KEYS[5]) return 0 end
redis.call('RENAME', KEYS[5], KEYS[1])
redis.call('HDEL', KEYS[1], 'restorable_until')
redis.call('PEXPIRE', KEYS[1], math.max(1, latest_expiry(codes) - tonumber(ARGV[2])))
return 1
`;

/** ARGV: loginId, codeHash */
export const DISCARD_CODE = `
local login = redis.call('HMGET', KEYS[1], 'id', 'codes')
if login[1] == ARGV[1] and login[2] then
  local kept = {}
  for _, code in ipairs(cjson.decode(login[2])) do
    if code[1] ~= ARGV[2] then kept[#kept + 1] = code end
  end
  if #kept == 0 then redis.call('DEL', KEYS[1]) else redis.call('HSET', KEYS[1], 'codes', cjson.encode(kept)) end
end
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('DEL', KEYS[2])
return 1
`;
