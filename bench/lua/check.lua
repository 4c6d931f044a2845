-- Check codes against seeded verifications: each thread walks its own share of the ids in
-- BENCH_IDS, sending BENCH_CODE (right or wrong, as the scenario seeded them).
local key = os.getenv("BENCH_API_KEY")
local code = os.getenv("BENCH_CODE")
local repeats = tonumber(os.getenv("BENCH_REPEATS") or "1")
local threads_total = tonumber(os.getenv("BENCH_THREADS"))
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}
local ids = nil
local position = 0

init = function(args)
  ids = {}
  local index = 0
  for line in io.lines(os.getenv("BENCH_IDS")) do
    if index % threads_total == thread_id then
      table.insert(ids, line)
    end
    index = index + 1
  end
end

request = function()
  local id = ids[(math.floor(position / repeats) % #ids) + 1]
  position = position + 1
  return wrk.format("POST", "/v1/verifications/" .. id .. "/check", headers,
                    '{"code":"' .. code .. '"}')
end
