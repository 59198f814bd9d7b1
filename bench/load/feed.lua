-- wrk script: POST each line of a file once. A line is PATH <tab> HEADER <tab> BODY, where
-- HEADER is "Name: value" or "-". Thread k of n takes lines k, k+n, ...; a thread that runs out
-- starts over (load_bench.py gives each run more lines than it can send and checks the count).
-- wrk -s feed.lua URL -- FILE THREADS [DELAY_MS]
local lines, sent = {}, 0
local pause = 0

function setup(thread)
  counter = (counter or 0) + 1
  thread:set("id", counter - 1)
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
