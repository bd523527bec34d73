-- wrk script for bench/bench_http.py: one kind of request, repeated; the figures printed as one JSON line.
--
-- Arguments (after `--`): method, path, body file ("-" for none), key prefix ("-": no Idempotency-Key),
-- authorization header value ("-" for none).
-- A POST carries a new Idempotency-Key each time (prefix, thread number, counter), so every request files anew.
-- Every answer outside 2xx is counted per thread and reported, so no failure hides in a throughput figure.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("number", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  method, path, body_file, key_prefix, authorization = args[1], args[2], args[3], args[4], args[5]
  body = nil
  if body_file ~= "-" then
    local handle = assert(io.open(body_file, "rb"))
    body = handle:read("*a")
    handle:close()
  end
  non2xx = 0
  statuses = {}
end

function request()
  local headers = {}
  if body then headers["Content-Type"] = "application/json" end
  if authorization ~= "-" then headers["Authorization"] = authorization end
  if key_prefix ~= "-" then
    counter = counter + 1
    headers["Idempotency-Key"] = key_prefix .. "-" .. number .. "-" .. counter
  end
  return wrk.format(method, path, headers, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if not first_bad then first_bad = status .. " " .. string.sub(body or "", 1, 200) end
  end
end

function done(summary, latency, requests)
  local bad, example = 0, ""
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
    example = thread:get("first_bad") or example
  end
  example = string.gsub(example, '[%c"\\]', " ")
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "non2xx": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "timeout": %d, "example": "%s"}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), bad,
    e.connect, e.read, e.write, e.timeout, example))
end
