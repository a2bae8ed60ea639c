-- One create + verify pair after another on each connection.
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
function init(args)
  n = 0
  token = nil
  key = os.getenv("KEY")
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key }
end
function request()
  if token == nil then
    n = n + 1
    return wrk.format("POST", "/v1/challenges", headers,
      '{"action":"bench","id":"' .. tid .. '-' .. n .. '"}')
  end
  local t = token
  token = nil
  return wrk.format("POST", "/v1/challenges/verify", headers, '{"token":"' .. t .. '"}')
end
function response(status, headers, body)
  if status == 201 then
    token = body:match('"secret":"([^"]+)"')
  end
end
