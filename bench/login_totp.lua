-- POST /api/v2/auth/login with a TOTP code, as user08000..user09999 in turn (each has a device
-- with the bench's secret, seeded by `passgate bench-seed-totp`). The codes of the next
-- half hour are precomputed by run.sh (BENCH_TOTP_CODES, a Lua table {[step] = "123456"});
-- a device accepts each step once, so each run starts at its own slice of the users (the
-- script argument) and no user signs in twice within a run. Every request from its own
-- address (X-Forwarded-For from the trusted 127.0.0.1), as login.lua does.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")

local password = os.getenv("BENCH_PASSWORD")
local codes = dofile(os.getenv("BENCH_TOTP_CODES"))
local first, count = 8000, 2000
local counter = 0
local offset = 0

function init(args)
  offset = tonumber(args[1] or "0")
end

function request()
  counter = counter + 1
  local n = first + ((counter * 7 + offset) % count)
  local code = codes[math.floor(os.time() / 30)] or "000000"
  local ip = string.format("127.%d.%d.%d", 200 + math.floor(n / 65536) % 50, math.floor(n / 256) % 256, n % 256)
  local body = string.format('{"username":"user%05d","password":"%s","totp":"%s"}', n, password, code)
  return wrk.format("POST", "/api/v2/auth/login", {
    ["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = ip,
  }, body)
end
