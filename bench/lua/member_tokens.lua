-- Each request carries the bearer token of a random member, so the load spreads over
-- many members (and their rows and lots) instead of one hot row. The tokens file
-- ($BENCH_TOKENS) holds one token a line.
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do
  tokens[#tokens + 1] = line
end

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end

function init(args)
  math.randomseed(os.time() * 1000 + (thread_no or 0))
end

function request()
  return wrk.format(nil, nil, { Authorization = "Bearer " .. tokens[math.random(#tokens)] })
end
