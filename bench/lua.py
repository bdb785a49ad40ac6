"""The wrk script every HTTP row runs: requests from a file, one per line
(`METHOD<TAB>path<TAB>Name: value<TAB>...`, bench/world.py `Request.line`), formatted once at
start and sent in turn.

`wrk ... -s requests.lua URL -- FILE`. At its end the list starts again; the script prints
`repeated N`, the requests sent after it ran out (for signed requests, which must be sent
once each, N must be 0: the list is sized for that). The `statuses` variant also counts the
answers by status (`status 503 N` lines); it makes wrk call Lua for every answer, so only rows
compared with each other use it.
"""

from __future__ import annotations

from pathlib import Path

_COMMON = r"""
local requests = {}
local position = 0
local sent = 0
repeated = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    local fields = {}
    for value in string.gmatch(line, "[^\t]+") do
      fields[#fields + 1] = value
    end
    local headers = {}
    for i = 3, #fields do
      local name, value = string.match(fields[i], "^([^:]+): (.*)$")
      headers[name] = value
    end
    requests[#requests + 1] = wrk.format(fields[1], fields[2], headers)
  end
  if #requests == 0 then
    error("no requests in " .. args[1])
  end
end

function request()
  position = position + 1
  if position > #requests then
    position = 1
  end
  if sent >= #requests then
    repeated = repeated + 1
  end
  sent = sent + 1
  return requests[position]
end
"""

_DONE = r"""
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("repeated")
  end
  print("repeated " .. total)
end
"""

_STATUSES = r"""
statuses = {}

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = 0
  local counted = {}
  for _, thread in ipairs(threads) do
    total = total + thread:get("repeated")
    for status, n in pairs(thread:get("statuses")) do
      counted[status] = (counted[status] or 0) + n
    end
  end
  print("repeated " .. total)
  for status, n in pairs(counted) do
    print("status " .. status .. " " .. n)
  end
end
"""


def write_script(directory: Path, *, statuses: bool) -> Path:
    """The script, written into `directory` (one per variant)."""
    name = "requests-statuses.lua" if statuses else "requests.lua"
    path = directory / name
    path.write_text(_COMMON + (_STATUSES if statuses else _DONE))
    return path
