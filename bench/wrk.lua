-- wrk script for bench/run.py: counts responses by status and prints one line of JSON with the
-- throughput, p50/p95/p99 latency and the non-2xx count (3xx included: a redirect to the sign-in
-- page is a failure here, not a fast answer).
--
--   wrk -t2 -c32 -d10s -s bench/wrk.lua -H 'Cookie: ...' http://127.0.0.1:8601/inbox
--
-- With BENCH_IDS=<file of ids, one a line> and BENCH_PATH=<path with %d> each request goes to the
-- next id, each thread taking every n-th one (n = BENCH_THREADS) and starting again at the end;
-- BENCH_METHOD=POST sends BENCH_BODY (default "{}") as JSON, e.g. the acknowledgements:
--
--   BENCH_IDS=/tmp/pool.txt BENCH_PATH=/api/v1/referrals/%d/acknowledge BENCH_METHOD=POST \
--     BENCH_THREADS=2 wrk -t2 -c4 -d10s -s bench/wrk.lua -H 'Authorization: Bearer ...' http://127.0.0.1:8601

local threads = {}
local count = 0

function setup(thread)
   count = count + 1
   thread:set("tid", count)
   table.insert(threads, thread)
end

function init(args)
   non2xx, s3xx, s4xx, s409, s5xx = 0, 0, 0, 0, 0
   local file = os.getenv("BENCH_IDS")
   method = os.getenv("BENCH_METHOD") or "GET"
   if method ~= "GET" then
      wrk.headers["Content-Type"] = "application/json"
      body = os.getenv("BENCH_BODY") or "{}"
   end
   if file then
      path = os.getenv("BENCH_PATH")
      ids = {}
      for line in io.lines(file) do
         if line ~= "" then ids[#ids + 1] = tonumber(line) end
      end
      step = tonumber(os.getenv("BENCH_THREADS") or "1")
      first = ((tid - 1) % step) + 1
      pos = first
   end
end

function request()
   if ids then
      local id = ids[pos]
      pos = pos + step
      if pos > #ids then pos = first end
      return wrk.format(method, string.format(path, id), nil, body)
   end
   return wrk.format(method, nil, nil, body)
end

function response(status, headers, resp_body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if status >= 500 then s5xx = s5xx + 1
      elseif status == 409 then s409 = s409 + 1
      elseif status >= 400 then s4xx = s4xx + 1
      else s3xx = s3xx + 1 end
   end
end

function done(summary, latency, requests)
   local n, c3, c4, c409, c5 = 0, 0, 0, 0, 0
   for _, t in ipairs(threads) do
      n = n + t:get("non2xx")
      c3 = c3 + t:get("s3xx")
      c4 = c4 + t:get("s4xx")
      c409 = c409 + t:get("s409")
      c5 = c5 + t:get("s5xx")
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_s": %.3f, "rps": %.2f, "p50_ms": %.2f, "p95_ms": %.2f, ' ..
      '"p99_ms": %.2f, "max_ms": %.2f, "non2xx": %d, "s3xx": %d, "s4xx": %d, "s409": %d, "s5xx": %d, ' ..
      '"socket_errors": %d, "timeouts": %d}\n',
      summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000, n, c3, c4, c409, c5,
      e.connect + e.read + e.write, e.timeout))
end
