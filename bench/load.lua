-- wrk script of the side-by-side benchmark (bench/wrk.py runs it). From the environment:
--   BENCH_BODY_FILE      the JSON request body to POST
--   BENCH_TOKENS_FILE    bearer tokens, one per line
--   BENCH_MODE           "distinct": each request takes the next token of the pool (no two
--                        requests in flight carry the same Authorization header);
--                        "identical": every request is the same, with the first token
--   BENCH_EXPECT_LENGTH  the byte length of the correct answer (checked before the load)
-- Every response is checked: a status other than 200, or a body of another length or with
-- "errors" in it, is counted. done() prints one line "RESULT {json}".
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
  local body = file:read("*a")
  file:close()
  tokens = {}
  for line in io.lines(os.getenv("BENCH_TOKENS_FILE")) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  distinct = os.getenv("BENCH_MODE") == "distinct"
  expect_length = tonumber(os.getenv("BENCH_EXPECT_LENGTH") or "0")
  stride = tonumber(os.getenv("BENCH_THREADS") or "1")
  next_token = thread_index
  bad_status, bad_body, checked = 0, 0, 0
  wrk.method = "POST"
  wrk.body = body
  headers = {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[1],
  }
  fixed = wrk.format("POST", nil, headers, body)
end

function request()
  if not distinct then return fixed end
  headers["Authorization"] = "Bearer " .. tokens[next_token % #tokens + 1]
  next_token = next_token + stride
  return wrk.format("POST", nil, headers, wrk.body)
end

function response(status, response_headers, body)
  checked = checked + 1
  if status ~= 200 then
    bad_status = bad_status + 1
  elseif (expect_length > 0 and #body ~= expect_length) or string.find(body, '"errors"', 1, true) then
    bad_body = bad_body + 1
  end
end

function done(summary, latency, requests)
  local status, body, seen = 0, 0, 0
  for _, thread in ipairs(threads) do
    status = status + thread:get("bad_status")
    body = body + thread:get("bad_body")
    seen = seen + thread:get("checked")
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "checked": %d, ' ..
    '"bad_status": %d, "bad_body": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, seen, status, body,
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
