-- wrk script of bench/hostile_load.py: every request posts the next JSON body of
-- BENCH_BODIES_FILE (one per line), without a token. With BENCH_UNSEEN=1 each "__N__" in a body
-- becomes a name never sent before, so that the gateway has never seen the operation (no cache
-- helps). done() prints one line "RESULT {json}" with the statuses counted.
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  for line in io.lines(os.getenv("BENCH_BODIES_FILE")) do
    if #line > 0 then bodies[#bodies + 1] = line end
  end
  unseen = os.getenv("BENCH_UNSEEN") == "1"
  sent, ok, bad = 0, 0, 0
  headers = {["Content-Type"] = "application/json", ["Accept"] = "application/json"}
end

function request()
  sent = sent + 1
  local body = bodies[(sent - 1) % #bodies + 1]
  if unseen then
    body = string.gsub(body, "__N__", tostring(id) .. "x" .. tostring(sent))
  end
  return wrk.format("POST", nil, headers, body)
end

function response(status, response_headers, body)
  if status == 200 then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local good, wrong = 0, 0
  for _, thread in ipairs(threads) do
    good = good + thread:get("ok")
    wrong = wrong + thread:get("bad")
  end
  io.write(string.format(
    'RESULT {"requests": %d, "ok": %d, "bad": %d, "duration_us": %d, "p50_us": %d, ' ..
    '"p99_us": %d}\n',
    summary.requests, good, wrong, summary.duration, latency:percentile(50),
    latency:percentile(99)))
end
