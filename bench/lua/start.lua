-- Start verifications to numbers no other request uses (UK mobiles +4474 .. ......), up to
-- BENCH_QUOTA per thread; after that, cheap requests, so the count of created ones is exact.
local key = os.getenv("BENCH_API_KEY")
local quota = tonumber(os.getenv("BENCH_QUOTA") or "100000000")
local offset = tonumber(os.getenv("BENCH_OFFSET") or "0")
local sent = 0
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}

request = function()
  if sent >= quota then
    return wrk.format("GET", "/healthz")
  end
  sent = sent + 1
  local number = string.format("+4474%02d%06d", thread_id + offset, sent)
  return wrk.format("POST", "/v1/verifications", headers, '{"to":"' .. number .. '"}')
end
