-- W1: registrations, each with a new email address (run, thread, counter).
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
function init(args)
  n = 0
  run = os.getenv("RUN") or "0"
  headers = { ["Content-Type"] = "application/json" }
end
function request()
  n = n + 1
  return wrk.format("POST", "/v1/auth/register", headers,
    '{"email":"w1-' .. run .. '-' .. tid .. '-' .. n .. '@bench.example","password":"a long bench passphrase 42"}')
end
