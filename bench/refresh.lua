-- Refresh-token rotation chains: each connection refreshes its own session
-- sequentially, using the token from the previous answer. Reads one refresh
-- token per line from tokens.txt (line N for wrk thread N).
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end
function init(args)
  local i = 0
  for line in io.lines("tokens.txt") do
    i = i + 1
    if i == id then token = line end
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  bad = 0
end
function request()
  return wrk.format("POST", "/v1/auth/refresh", nil, '{"refresh_token":"' .. token .. '"}')
end
function response(status, headers, body)
  if status == 200 then
    token = body:match('"refresh_token":"([^"]+)"')
  else
    bad = bad + 1
  end
end
