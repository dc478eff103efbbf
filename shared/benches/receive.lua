-- wrk script for `stsguard receive` (BENCHMARKS.md): each thread POSTs its
-- own share of the bodies written by receive_bodies.py, each once, then
-- repeats them (duplicates).
--   BODIES=/tmp/rx-bodies N=20000 wrk -t4 -c20 -d10s -s receive.lua http://127.0.0.1:8460/v1
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local dir = os.getenv("BODIES")
  local n = tonumber(os.getenv("N"))
  local nthreads = tonumber(os.getenv("THREADS") or "4")
  bodies = {}
  for i = id, n - 1, nthreads do
    local f = assert(io.open(dir .. "/" .. i .. ".gz", "rb"))
    table.insert(bodies, f:read("*a"))
    f:close()
  end
  next_body = 1
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/tlsrpt+gzip"
end

function request()
  local body = bodies[next_body]
  next_body = next_body % #bodies + 1
  return wrk.format(nil, nil, nil, body)
end

done = function(summary, latency, requests)
  io.write(string.format("requests %d, errors (non-2xx) %d, p50 %.2f ms, p99 %.2f ms\n",
    summary.requests, summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
