-- wrk script for the write-off bench: every request writes off a different voucher.
-- bench/voucher_redeem.py writes one voucher code per line to FORECOURT_BENCH_CODES and the staff's
-- bearer tokens to FORECOURT_BENCH_TOKENS; thread i of n takes codes i, i+n, i+2n, … so no two
-- requests share a voucher. Each request carries its own Idempotency-Key, as a scan does.
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_number", thread_count)
end

function init(args)
  local threads = tonumber(os.getenv("FORECOURT_BENCH_THREADS")) or 1
  codes = {}
  local line_number = 0
  for line in io.lines(os.getenv("FORECOURT_BENCH_CODES")) do
    if line_number % threads == thread_number - 1 then
      codes[#codes + 1] = line
    end
    line_number = line_number + 1
  end
  tokens = {}
  for line in io.lines(os.getenv("FORECOURT_BENCH_TOKENS")) do
    tokens[#tokens + 1] = line
  end
  sent = 0
  key_prefix = "redeem-" .. thread_number .. "-"
end

function request()
  sent = sent + 1
  -- Past the last code the vouchers repeat; those answers are 409s and wrk counts them as non-2xx.
  local code = codes[((sent - 1) % #codes) + 1]
  local token = tokens[((sent - 1) % #tokens) + 1]
  local headers = {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = key_prefix .. sent,
  }
  return wrk.format("POST", nil, headers, '{"code": "' .. code .. '"}')
end
