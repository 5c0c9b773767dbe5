-- POST /api/v2/auth/login as user00001..user09999 in turn (all share one password), each
-- request from its own client address (X-Forwarded-For, believed from the trusted
-- 127.0.0.1) so that the per-address and per-username throttles of the panel are not what
-- is measured. The addresses are header values only: every byte goes to 127.0.0.1.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")

local password = os.getenv("BENCH_PASSWORD")
local users = tonumber(os.getenv("BENCH_LOGIN_USERS") or "9999")
local counter = 0
local offset = 0

function init(args)
  -- Threads start at different users so that they do not log in as the same one at once.
  offset = tonumber(args[1] or "0")
end

function request()
  counter = counter + 1
  local n = ((counter * 7 + offset) % users) + 1
  local ip = string.format("127.%d.%d.%d", 1 + math.floor(n / 65536) % 254, math.floor(n / 256) % 256, n % 256)
  local body = string.format('{"username":"user%05d","password":"%s"}', n, password)
  return wrk.format("POST", "/api/v2/auth/login", {
    ["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = ip,
  }, body)
end
