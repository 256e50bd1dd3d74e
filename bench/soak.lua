-- wrk script for bench/faults.py (the soak): of every 10 requests a connection's thread sends,
-- 6 API inbox lists, 2 API details, 1 HTML inbox page, 1 acknowledgement of the next pool referral.
-- Counts responses by status and prints one line of JSON (BENCH_JSON {...}).
--
--   BENCH_TOKEN=<bearer token> BENCH_COOKIE='<session cookie>' BENCH_DETAILS=<file of ids> \
--   BENCH_POOL=<file of ids> BENCH_THREADS=2 wrk -t2 -c32 -d300s -s bench/soak.lua http://127.0.0.1:8611
--
-- Each thread takes every n-th pool id (n = BENCH_THREADS), so no referral is acknowledged twice
-- unless a thread runs through its share of the pool (then 409s appear: make the pool bigger).

local threads = {}
local count = 0

function setup(thread)
   count = count + 1
   thread:set("tid", count)
   table.insert(threads, thread)
end

local function read_ids(file)
   local ids = {}
   for line in io.lines(file) do
      if line ~= "" then ids[#ids + 1] = tonumber(line) end
   end
   return ids
end

function init(args)
   statuses = {}
   wrapped = 0
   local step = tonumber(os.getenv("BENCH_THREADS") or "1")
   local all = read_ids(os.getenv("BENCH_POOL"))
   pool = {}
   for i = ((tid - 1) % step) + 1, #all, step do pool[#pool + 1] = all[i] end
   details = read_ids(os.getenv("BENCH_DETAILS"))
   ppos, dpos, n = 1, 1, 0
   api = { ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"), ["Accept"] = "application/json" }
   ack = { ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"), ["Accept"] = "application/json",
           ["Content-Type"] = "application/json" }
   html = { ["Cookie"] = os.getenv("BENCH_COOKIE") }
end

function request()
   local k = n % 10
   n = n + 1
   if k < 6 then
      return wrk.format("GET", "/api/v1/referrals?status=sent&per_page=25", api)
   elseif k < 8 then
      local id = details[dpos]
      dpos = dpos % #details + 1
      return wrk.format("GET", string.format("/api/v1/referrals/%d", id), api)
   elseif k == 8 then
      return wrk.format("GET", "/inbox", html)
   end
   local id = pool[ppos]
   ppos = ppos + 1
   if ppos > #pool then ppos = 1; wrapped = wrapped + 1 end
   return wrk.format("POST", string.format("/api/v1/referrals/%d/acknowledge", id), ack, "{}")
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local total = {}
   local wraps = 0
   for _, t in ipairs(threads) do
      for s, c in pairs(t:get("statuses")) do total[s] = (total[s] or 0) + c end
      wraps = wraps + t:get("wrapped")
   end
   local parts = {}
   for s, c in pairs(total) do parts[#parts + 1] = string.format('"%d": %d', s, c) end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_s": %.3f, "rps": %.2f, "p50_ms": %.2f, "p95_ms": %.2f, ' ..
      '"p99_ms": %.2f, "max_ms": %.2f, "statuses": {%s}, "pool_wrapped": %d, "socket_errors": %d, ' ..
      '"timeouts": %d}\n',
      summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000, table.concat(parts, ", "), wraps, e.connect + e.read + e.write, e.timeout))
end
