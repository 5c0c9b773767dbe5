-- POST /api/v2/auth/passkey/login/options, as every sign-in page with script asks for its
-- username field's passkey autofill (SPEC §13): with the argument "none" nothing typed (a
-- discoverable ceremony), with "name" the name of user00001..user09999 in turn, none of which
-- has a passkey (the decoy path: the user read, the decoy ids derived). Each answer stores
-- a ceremony row.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")

local counter = 0
local typed = false

function init(args)
  typed = args[1] == "name"
end

function request()
  counter = counter + 1
  local body = "{}"
  if typed then
    body = string.format('{"username":"user%05d"}', (counter * 7) % 9999 + 1)
  end
  return wrk.format("POST", "/api/v2/auth/passkey/login/options", {
    ["Content-Type"] = "application/json",
  }, body)
end
