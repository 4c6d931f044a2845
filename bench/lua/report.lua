-- Appended to every scenario: one machine-readable line with wrk's own measurements.
local threads = {}

setup = function(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

done = function(summary, latency, requests)
  local flows = 0
  for _, thread in ipairs(threads) do
    flows = flows + (thread:get("flows") or 0)
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "socket_errors": %d, "non2xx": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "flows": %d}\n',
    summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.timeout, errors.status,
    latency:percentile(50), latency:percentile(99), flows))
end
