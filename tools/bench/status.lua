-- wrk script: GET a submission's status, rotating over "<token> <submission id>" pairs.
local pairs_list = {}
local i = 0

function init(args)
  for line in io.lines(args[1]) do
    local token, sid = line:match("^(%S+) (%S+)$")
    if token then table.insert(pairs_list, {token, sid}) end
  end
  i = math.random(#pairs_list)
end

function request()
  i = i % #pairs_list + 1
  local p = pairs_list[i]
  return wrk.format("GET", "/api/submissions/" .. p[2], {["Authorization"] = "Bearer " .. p[1]})
end
