-- Full flows, one per connection at a time (run with as many threads as connections):
-- start a verification, read its code from the developer outbox, check it.
local key = os.getenv("BENCH_API_KEY")
local offset = tonumber(os.getenv("BENCH_OFFSET") or "0")
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}
local step = "start"
local sequence = 0
local digits, id, code
flows = 0

request = function()
  if step == "start" then
    sequence = sequence + 1
    digits = string.format("4475%03d%05d", thread_id + offset, sequence)
    return wrk.format("POST", "/v1/verifications", headers, '{"to":"+' .. digits .. '"}')
  elseif step == "outbox" then
    return wrk.format("GET", "/v1/dev/outbox?limit=1&to=%2B" .. digits, headers)
  end
  return wrk.format("POST", "/v1/verifications/" .. id .. "/check", headers,
                    '{"code":"' .. code .. '"}')
end

response = function(status, response_headers, body)
  if step == "start" then
    id = body:match('"id":"(ver_[%w]+)"')
    step = id and "outbox" or "start"
  elseif step == "outbox" then
    code = body:match('code is (%w+)')
    if code then step = "check" end  -- not delivered yet: read the outbox again
  else
    if body:match('"valid":true') then flows = flows + 1 end
    step = "start"
  end
end
