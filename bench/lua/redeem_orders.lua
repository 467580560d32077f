-- Appended after member_tokens.lua: each request redeems item $BENCH_ITEM_ID for a random
-- member, with an Idempotency-Key of its own (thread number, counter, random), so every
-- request is a new redemption, never a replay.
local body = string.format('{"item_id": %d}', tonumber(os.getenv("BENCH_ITEM_ID")))
local sent = 0

function request()
  sent = sent + 1
  local key = string.format("bench-%d-%d-%d-%d", os.time(), thread_no or 0, sent, math.random(1, 1000000000))
  return wrk.format("POST", nil, {
    Authorization = "Bearer " .. tokens[math.random(#tokens)],
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = key,
  }, body)
end
