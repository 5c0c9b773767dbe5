-- POST /oauth2/token: each request redeems one authorization code (code + client_secret_basic,
-- an RS256 ID token signed per answer), from the file BENCH_OIDC_CODES that
-- `passgate bench-oidc-codes` wrote (first line: client_id secret; then one code a line).
-- A code is good once: if the file runs out, the repeats are refused (400) and run.sh refuses
-- the run, so the count must exceed what one run redeems.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")

local codes = {}
local basic = ""
local counter = 0

function init(args)
  local file = assert(io.open(os.getenv("BENCH_OIDC_CODES"), "r"))
  local first = file:read("*l")
  local id, secret = first:match("^(%S+) (%S+)$")
  -- Basic credentials (RFC 6749 §2.3.1: form-encoded, here only [A-Za-z0-9_-]).
  local b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  local raw = id .. ":" .. secret
  basic = (raw:gsub(".", function(c)
    local bits, byte = "", c:byte()
    for i = 8, 1, -1 do bits = bits .. (byte % 2 ^ i - byte % 2 ^ (i - 1) > 0 and "1" or "0") end
    return bits
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(bits)
    if #bits < 6 then return "" end
    local n = 0
    for i = 1, 6 do n = n + (bits:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return b64:sub(n + 1, n + 1)
  end) .. ({ "", "==", "=" })[#raw % 3 + 1]
  for line in file:lines() do
    codes[#codes + 1] = line
  end
  file:close()
end

function request()
  counter = counter + 1
  local code = codes[counter] or "exhausted"
  return wrk.format("POST", "/oauth2/token", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = "Basic " .. basic,
  }, "grant_type=authorization_code&redirect_uri=https%3A%2F%2Fbench.example%2Fcb&code=" .. code)
end
