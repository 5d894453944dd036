-- wrk script for the flash sale: every request is a different buyer placing an order on one edition.
-- bench/flash_sale.py writes one bearer token per line to FORECOURT_BENCH_TOKENS; thread i of n takes
-- lines i, i+n, i+2n, … so no two requests share a buyer (one live hold per buyer is a product rule).
-- Each request carries its own Idempotency-Key, as a real client's first attempt would.
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_number", thread_count)
end

function init(args)
  local threads = tonumber(os.getenv("FORECOURT_BENCH_THREADS")) or 1
  local run = os.getenv("FORECOURT_BENCH_RUN") or "run"
  tokens = {}
  local line_number = 0
  for line in io.lines(os.getenv("FORECOURT_BENCH_TOKENS")) do
    if line_number % threads == thread_number - 1 then
      tokens[#tokens + 1] = line
    end
    line_number = line_number + 1
  end
  sent = 0
  key_prefix = run .. "-" .. thread_number .. "-"
  body = os.getenv("FORECOURT_BENCH_BODY")
end

function request()
  sent = sent + 1
  -- Past the last token the buyers repeat; those answers are 409s and the script reports them as such.
  local token = tokens[((sent - 1) % #tokens) + 1]
  local headers = {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = key_prefix .. sent,
  }
  return wrk.format("POST", nil, headers, body)
end
