-- wrk script: POST a submission, rotating over "<token> <assignment id>" pairs.
local pairs_list = {}
local program = ""
local i = 0

function init(args)
  for line in io.lines(args[1]) do
    local token, aid = line:match("^(%S+) (%S+)$")
    if token then table.insert(pairs_list, {token, aid}) end
  end
  local f = assert(io.open(args[2], "r"))
  program = f:read("*a")
  f:close()
  -- Threads start at different offsets so they do not use the same student.
  i = math.random(#pairs_list)
end

local function json_string(s)
  return '"' .. s:gsub('\\', '\\\\'):gsub('"', '\\"'):gsub('\n', '\\n'):gsub('\r', '\\r'):gsub('\t', '\\t') .. '"'
end

function request()
  i = i % #pairs_list + 1
  local p = pairs_list[i]
  local body = '{"language": "rhai", "program": ' .. json_string(program) .. '}'
  return wrk.format("POST", "/api/assignments/" .. p[2] .. "/submissions",
    {["Authorization"] = "Bearer " .. p[1], ["Content-Type"] = "application/json"}, body)
end
