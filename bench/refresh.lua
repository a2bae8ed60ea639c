-- W5: refresh-token rotation chains. Reads refresh tokens, one a line, from
-- the file in $TOKENS; wrk thread N of $THREADS takes lines N, N+THREADS, ...
-- Each thread keeps a pool of chain heads: a request takes one, the answer
-- puts its successor back, so no two requests ever race on one chain (every
-- rotation is a genuine rotation, never a replay or a reuse).
--
-- wrk asks each thread for one request more than it has connections (one is
-- built before any is sent), so give each thread one token more than its
-- connections. A connection that finds no head sends GET /health instead,
-- which is not counted.
local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
function init(args)
  local nthreads = tonumber(os.getenv("THREADS") or "1")
  heads = {}
  local i = 0
  for line in io.lines(os.getenv("TOKENS")) do
    if i % nthreads == id - 1 then table.insert(heads, line) end
    i = i + 1
  end
  rotated = 0
  failed = 0
  idle = 0
  headers = { ["Content-Type"] = "application/json" }
end
function request()
  local token = table.remove(heads)
  if token == nil then
    idle = idle + 1
    return wrk.format("GET", "/health")
  end
  return wrk.format("POST", "/v1/auth/refresh", headers, '{"refresh_token":"' .. token .. '"}')
end
function response(status, headers, body)
  local successor = body:match('"refresh_token":"([^"]+)"')
  if status == 200 and successor then
    rotated = rotated + 1
    table.insert(heads, successor)
  elseif not body:match('"status":"ok"') then
    failed = failed + 1
  end
end
function done(summary, latency, requests)
  local r, f, i = 0, 0, 0
  for _, t in ipairs(threads) do
    r = r + t:get("rotated")
    f = f + t:get("failed")
    i = i + t:get("idle")
  end
  io.write(string.format("BENCH rate=%.2f rotated=%d failed=%d idle=%d\n",
    r / (summary.duration / 1e6), r, f, i))
end
