-- wrk script for durable ingest against a running relay (docs/benchmarks.md):
-- alert-sized messages, each with its own requestId and one of 100 thread
-- keys, as BenchmarkIngest posts them, spread over the four spaces of
-- relay.yaml beside this file (each space's queue holds 10,000).
--
--   gchat relay --config internal/bench/wrk/relay.yaml &
--   wrk -t2 -c64 -d3s -s internal/bench/wrk/ingest.lua --latency http://127.0.0.1:18686
local text = "*[FIRING:1]* HighErrorRate api-gateway (production, eu-west-1)\n*Summary:* 5xx responses above 5% for 10 minutes on api-gateway.\n*Description:* The ratio of 5xx answers to all answers has been 7.3% over the last 10 minutes (threshold 5%). Upstream checkout-service answers slowly; p99 latency is 2.4 s.\n*Labels:* alertname=HighErrorRate, cluster=prod-eu-1, namespace=edge, service=api-gateway, severity=critical, team=platform\n*Started:* 2026-11-27T10:42:17Z\n<https://grafana.example.com/d/api-gateway/overview?orgId=1&var-cluster=prod-eu-1|Dashboard> · <https://runbooks.example.com/HighErrorRate|Runbook>"
local n = 0
local thread = 0
function setup(t) thread = thread + 1; t:set("id", thread) end
function init(args) prefix = "w" .. tostring(id) .. "-" .. tostring(math.random(1, 1e9)) .. "-" end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json; charset=UTF-8"
request = function()
  n = n + 1
  local body = '{"text":' .. string.format("%q", text):gsub("\\\n", "\\n") .. ',"thread":{"threadKey":"alert-' .. (n % 100) .. '"}}'
  local s = n % 4; return wrk.format(nil, "/v1/spaces/a" .. (s + 1) .. "/messages?key=k&token=bench-ingest-token-012" .. (s + 3) .. "&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD&requestId=" .. prefix .. n, nil, body)
end
