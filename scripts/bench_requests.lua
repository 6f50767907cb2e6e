-- wrk script for scripts/bench.py: replays pre-signed provider webhooks and reports as JSON.
--
--   wrk -t1 -c8 -d5s -s scripts/bench_requests.lua http://127.0.0.1:PORT -- FILE MARKER OFFSET
--
-- FILE holds one request a line: path TAB X-Twilio-Signature TAB urlencoded body. Requests are
-- formatted once in init() so request() costs nothing while measuring. OFFSET is where this run
-- starts in the list, so single-use requests (a pending CPF is consumed by its password step)
-- are never replayed by a later run. MARKER is a byte string every good response body contains.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("index", #threads - 1)
end

local requests = {}
local position = 0
local marker = ""
-- Globals, not locals: done() reads them from each thread with thread:get().
statuses = {}
marker_misses = 0
first_bad = ""

function init(args)
   local file, offset = args[1], tonumber(args[3] or "0")
   marker = args[2] or ""
   local headers = {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["User-Agent"] = "TwilioProxy/1.1",
   }
   for line in io.lines(file) do
      local path, signature, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      if path then
         headers["X-Twilio-Signature"] = signature
         table.insert(requests, wrk.format("POST", path, headers, body))
      end
   end
   -- Threads start far apart in the list so they do not send the same CallSids together.
   local spread = math.floor(#requests / 8) * index
   position = (offset + spread) % #requests
end

function request()
   position = position + 1
   if position > #requests then
      position = 1
   end
   return requests[position]
end

function response(status, headers, body)
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
   local good = status == 200 and (marker == "" or (body and body:find(marker, 1, true)))
   if not good then
      marker_misses = marker_misses + 1
      if first_bad == "" then
         first_bad = key .. " " .. string.sub(body or "", 1, 400)
      end
   end
end

local function json_string(text)
   text = text:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", string.byte(c))
   end)
   return '"' .. text .. '"'
end

function done(summary, latency, requests_done)
   local merged, misses, bad, sent_until = {}, 0, "", 0
   for _, thread in ipairs(threads) do
      for key, count in pairs(thread:get("statuses")) do
         merged[key] = (merged[key] or 0) + count
      end
      misses = misses + thread:get("marker_misses")
      if bad == "" then
         bad = thread:get("first_bad")
      end
   end
   local parts = {}
   for key, count in pairs(merged) do
      table.insert(parts, string.format('"%s":%d', key, count))
   end
   -- 1,000 quantiles (0.1 % steps, plus 99.99) let bench.py merge runs into one distribution.
   local quantiles = {}
   for step = 1, 999 do
      table.insert(quantiles, string.format("%d", latency:percentile(step / 10)))
   end
   table.insert(quantiles, string.format("%d", latency:percentile(99.99)))
   local errors = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"statuses":{%s},"marker_misses":%d,' ..
      '"first_bad":%s,"socket_errors":%d,"timeouts":%d,"p50_us":%d,"p99_us":%d,' ..
      '"max_us":%d,"quantiles_us":[%s]}\n',
      summary.requests, summary.duration, table.concat(parts, ","), misses, json_string(bad),
      errors.connect + errors.read + errors.write, errors.timeout,
      latency:percentile(50), latency:percentile(99), latency.max, table.concat(quantiles, ",")))
end
