-- W6: challenge create + verify pairs. Each thread keeps the secrets of the
-- challenges it created and not yet verified; a connection ready to send
-- verifies one if there is one, else creates one. So every connection
-- alternates between the two, and a pair is one create and its verify.
-- The API key (scope "challenges") comes from $KEY.
local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end
function init(args)
  n = 0
  pending = {}
  verified = 0
  created = 0
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("KEY") }
  run = os.getenv("RUN") or "0"
end
function request()
  local secret = table.remove(pending)
  if secret ~= nil then
    return wrk.format("POST", "/v1/challenges/verify", headers, '{"token":"' .. secret .. '"}')
  end
  n = n + 1
  return wrk.format("POST", "/v1/challenges", headers,
    '{"action":"bench","id":"' .. run .. '-' .. tid .. '-' .. n .. '"}')
end
function response(status, headers, body)
  if status == 201 then
    created = created + 1
    table.insert(pending, body:match('"secret":"([^"]+)"'))
  elseif status == 200 then
    verified = verified + 1
  end
end
function done(summary, latency, requests)
  local v, c = 0, 0
  for _, t in ipairs(threads) do
    v = v + t:get("verified")
    c = c + t:get("created")
  end
  io.write(string.format("BENCH rate=%.2f verified=%d created=%d\n", v / (summary.duration / 1e6), v, c))
end
