-- wrk script of scripts/overload.sh and scripts/soak.sh: POST multipart uploads round-robin over files, and check
-- every answer: a 200 must be a segmentation (application/json with a classMap, at least MIN_BYTES long), a 429 must
-- carry Retry-After. Prints one JSON line ("CHECK {...}") with the counts. Arguments after wrk's "--": FIELD FILE...
-- Environment: DELAY_MS (pause of each connection between its requests, for a set load; default 0),
-- MIN_BYTES (default 200).
local requests, n, idx = {}, 0, 0
counts = {}          -- per thread, read back in done()
local threads, tid = {}, 0
local delay_ms = tonumber(os.getenv("DELAY_MS") or "0") or 0
local min_bytes = tonumber(os.getenv("MIN_BYTES") or "200") or 200
local mime = { jpg = "image/jpeg", jpeg = "image/jpeg", png = "image/png" }

function setup(thread)
  tid = tid + 1
  thread:set("thread_index", tid)
  table.insert(threads, thread)
end

function init(args)
  local field = args[1]
  local boundary = "----reliability" .. string.format("%08x", math.random(0, 0x7fffffff))
  for i = 2, #args do
    local f = assert(io.open(args[i], "rb"), "cannot open " .. args[i])
    local data = f:read("*a")
    f:close()
    local name = args[i]:match("([^/]+)$")
    local ext = (name:match("%.([%w]+)$") or ""):lower()
    local body = "--" .. boundary .. "\r\n" ..
      'Content-Disposition: form-data; name="' .. field .. '"; filename="' .. name .. '"\r\n' ..
      "Content-Type: " .. (mime[ext] or "application/octet-stream") .. "\r\n\r\n" .. data .. "\r\n--" .. boundary .. "--\r\n"
    n = n + 1
    requests[n] = wrk.format("POST", nil, { ["Content-Type"] = "multipart/form-data; boundary=" .. boundary }, body)
  end
  idx = ((thread_index or 1) - 1) % n
end

function request()
  idx = idx % n + 1
  return requests[idx]
end

function delay()
  return delay_ms
end

local function bump(k) counts[k] = (counts[k] or 0) + 1 end

local function header(headers, name)
  for k, v in pairs(headers) do
    if k:lower() == name then return v end
  end
  return nil
end

function response(status, headers, body)
  bump("status_" .. status)
  if status == 200 then
    local ctype = header(headers, "content-type") or ""
    if ctype:find("application/json", 1, true) and #body >= min_bytes and body:find('"classMap"', 1, true) then
      bump("ok")
    else
      bump("bad_200")
    end
  elseif status == 429 then
    if header(headers, "retry-after") then bump("429_retry_after") else bump("429_without_retry_after") end
  end
end

function done(summary, latency, requests_)
  local total = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    if c then for k, v in pairs(c) do total[k] = (total[k] or 0) + v end end
  end
  local parts = {}
  for k, v in pairs(total) do table.insert(parts, '"' .. k .. '":' .. v) end
  table.sort(parts)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    'CHECK {"requests":%d,"duration_s":%.2f,"rps":%.2f,"p50_ms":%.1f,"p90_ms":%.1f,"p99_ms":%.1f,"max_ms":%.1f,' ..
    '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"counts":{%s}}\n',
    summary.requests, secs, summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, e.connect, e.read, e.write, e.timeout, table.concat(parts, ",")))
end
