-- wrk script: POSTs one prepared request body over and over, then prints one JSON line with
-- the run's figures, so benchmarks/bench_serve.py does not have to parse wrk's text report.
--   TABULA_WRK_BODY=body.json TABULA_WRK_CONTENT_TYPE=application/json \
--     wrk -t2 -c64 -d10s -s benchmarks/wrk/post_body.lua http://127.0.0.1:8000/v2/models/m/infer
-- The body is read once per wrk thread (each thread has its own Lua state).

local function read_body(path)
  local file = assert(io.open(path, "rb"), "cannot open TABULA_WRK_BODY=" .. tostring(path))
  local body = file:read("*a")
  file:close()
  return body
end

local body_path = os.getenv("TABULA_WRK_BODY")
if body_path == nil or body_path == "" then
  error("set TABULA_WRK_BODY to the file holding the request body")
end

wrk.method = "POST"
wrk.body = read_body(body_path)
wrk.headers["Content-Type"] = os.getenv("TABULA_WRK_CONTENT_TYPE") or "application/json"

-- Prints, after wrk's own report, one line "TABULA_WRK_JSON {...}" with requests, seconds,
-- errors by kind (status = non-2xx/3xx answers) and latency percentiles in microseconds.
done = function(summary, latency, requests)
  local errors = summary.errors
  local parts = {
    string.format('"requests":%d', summary.requests),
    string.format('"duration_us":%d', summary.duration),
    string.format('"bytes":%d', summary.bytes),
    string.format('"errors_connect":%d', errors.connect),
    string.format('"errors_read":%d', errors.read),
    string.format('"errors_write":%d', errors.write),
    string.format('"errors_status":%d', errors.status),
    string.format('"errors_timeout":%d', errors.timeout),
    string.format('"latency_mean_us":%.1f', latency.mean),
    string.format('"latency_max_us":%d', latency.max),
  }
  for _, p in ipairs({50, 90, 99, 99.9}) do
    parts[#parts + 1] = string.format('"latency_p%s_us":%d', (tostring(p):gsub("%.", "_")),
                                      latency:percentile(p))
  end
  io.write("TABULA_WRK_JSON {" .. table.concat(parts, ",") .. "}\n")
end
