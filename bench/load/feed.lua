-- wrk script: POST each line of a file once. A line is PATH <tab> HEADER <tab> BODY, where
-- HEADER is "Name: value" or "-". Thread k of n takes lines k, k+n, ...; a thread that runs out
-- starts over, and done() reports how many requests were such repeats ("repeated: N").
-- wrk -s feed.lua URL -- FILE THREADS [DELAY_MS]
local lines, sent = {}, 0
local pause = 0
local threads = {}
repeated = 0

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("id", #threads - 1)
end

function init(args)
  local threads = tonumber(args[2])
  pause = tonumber(args[3] or "0")
  local k = 0
  for line in io.lines(args[1]) do
    if k % threads == id then lines[#lines + 1] = line end
    k = k + 1
  end
end

function delay()
  return pause
end

function request()
  sent = sent + 1
  if sent > #lines then repeated = repeated + 1 end
  local line = lines[(sent - 1) % #lines + 1]
  local path, extra, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Content-Type"] = "application/json"
  if extra ~= "-" then
    local name, value = extra:match("^([^:]+): (.*)$")
    headers[name] = value
  end
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("repeated") end
  io.write("repeated: " .. total .. "\n")
end
