-- GET the paths in BENCH_PATHS (one a line, e.g. /v1/verifications/ver_…), each thread its
-- own share in turn, with the bench app's key.
local key = os.getenv("BENCH_API_KEY")
local threads_total = tonumber(os.getenv("BENCH_THREADS"))
local headers = {["Authorization"] = "Bearer " .. key}
local paths = nil
local position = 0

init = function(args)
  paths = {}
  local index = 0
  for line in io.lines(os.getenv("BENCH_PATHS")) do
    if index % threads_total == thread_id then
      table.insert(paths, line)
    end
    index = index + 1
  end
end

request = function()
  position = position + 1
  return wrk.format("GET", paths[(position % #paths) + 1], headers)
end
