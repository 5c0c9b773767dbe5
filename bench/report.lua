-- Prints one machine-readable line when wrk is done (used by bench/run.sh).
-- Any response that is not 2xx counts as an error; run.sh refuses a run with errors.
bad = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local non2xx = 0
  for _, t in ipairs(threads) do
    non2xx = non2xx + (t:get("bad") or 0)
  end
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.timeout + non2xx
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d non2xx=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors, non2xx))
end
