-- wrk script for POST /api/v1/configurations/quote. bench/run.py passes the body it discovered from the
-- seeded catalogue (a real trim and options that make a valid configuration) in FORECOURT_BENCH_BODY.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.body = os.getenv("FORECOURT_BENCH_BODY") or '{"trim": "missing", "options": []}'
