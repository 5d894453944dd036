-- Generic wrk script for scenarios with a method, body or headers: bench/run.py fills the environment.
wrk.method = os.getenv("FORECOURT_BENCH_METHOD") or "GET"
local content_type = os.getenv("FORECOURT_BENCH_CONTENT_TYPE")
if content_type and content_type ~= "" then
  wrk.headers["Content-Type"] = content_type
end
local body = os.getenv("FORECOURT_BENCH_BODY")
if body and body ~= "" then
  wrk.body = body
end
