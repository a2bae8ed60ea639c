-- W2/W3: logins of one user, with the password in $PASSWORD (W2 the right
-- one, W3 a wrong one).
function init(args)
  local body = '{"email":"' .. os.getenv("EMAIL") .. '","password":"' .. os.getenv("PASSWORD") .. '"}'
  req = wrk.format("POST", "/v1/auth/login", { ["Content-Type"] = "application/json" }, body)
end
function request()
  return req
end
