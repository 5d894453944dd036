"""Write-off throughput: `POST /api/v1/vouchers/redeem` through the real server against pgbench doing
the bare conditional UPDATE + INSERT, in one run.

    uv run python bench/voucher_redeem.py [--duration 8] [--clients 32] [--staff 8]

What one run does, on PostgreSQL (DATABASE_URL, or a throw-away cluster from scripts/pg-test-cluster):
1. makes a temporary database, migrates it, and creates a dealer, `--staff` sales advisors with bearer
   tokens, a gift campaign and enough active vouchers that every request writes off a different one,
   plus as many reference vouchers for pgbench;
2. reference: pgbench runs `UPDATE offers_voucher SET status='redeemed' … WHERE code=$1 AND
   status='active'` and a redemption-shaped INSERT, one transaction each, at `--clients` clients;
3. serves the app with granian (WSGI, 2 workers, production settings) on loopback; wrk sends
   `POST /api/v1/vouchers/redeem {"code"}` with a fresh Idempotency-Key, the staff's tokens in turn,
   each request a new voucher, at the same concurrency; every answer must be 200 (the whole service:
   rate limits, idempotency record, visibility, conditional UPDATE, redemption, event);
4. prints both rates and their ratio (target ≥ 0.5) and writes var/bench/voucher_redeem.json.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(REPO_DIR / "src"))

from flash_sale import bench_start, django_migrated  # noqa: E402
from load import parse_wrk  # noqa: E402
from server import HOST, BenchSetupError, Server, bench_environment, free_port  # noqa: E402

WRK_THREADS = 2
REFERENCE_TABLE = "bench_redemption"
# Vouchers are made for the fastest rate this machine could plausibly reach, with room to spare.
VOUCHERS_PER_SECOND = 1_500
TARGET = 0.5


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measurement (default 8)")
    parser.add_argument("--clients", type=int, default=32, help="wrk connections and pgbench clients (32)")
    parser.add_argument("--staff", type=int, default=8, help="staff members writing off (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="granian worker processes (default 2)")
    parser.add_argument("--output", type=Path, default=REPO_DIR / "var" / "bench" / "voucher_redeem.json")
    args = parser.parse_args(argv)
    if args.duration < 1 or args.clients < 1 or args.staff < 1:
        parser.error("--duration, --clients and --staff must be positive")
    return args


def prepare(env: dict[str, str], *, vouchers: int, staff: int) -> dict[str, Any]:
    """Migrate and create the dealer, staff (with tokens), campaign and vouchers."""
    django_migrated(env)
    from django.db import connection

    from forecourt.accounts.models import ApiToken, Role, User
    from forecourt.accounts.services import api_token_hash
    from forecourt.core import clock
    from forecourt.dealers.tests.factories import DealerFactory, shanghai
    from forecourt.offers.models import Campaign, CouponKind, Voucher
    from forecourt.offers.models.vouchers import new_voucher_code

    moment = clock.now()
    dealer = DealerFactory(city=shanghai(), name="压测4S店")
    holder = User.objects.create(username="bench-holder", role=Role.CONSUMER, display_name="压测车主")
    campaign = Campaign.objects.create(
        name="压测赠品券",
        kind=CouponKind.GIFT,
        starts_at=moment - timedelta(days=1),
        ends_at=moment + timedelta(days=30),
        face_value_fen=500_00,
        gift_description="保养一次",
        per_person_limit=10_000_000,
    )
    tokens = []
    for index in range(staff):
        user = User.objects.create(username=f"bench-staff-{index}", role=Role.SALES_ADVISOR, dealer=dealer)
        raw = "fct_" + secrets.token_urlsafe(32)
        ApiToken.objects.create(
            user=user, key_hash=api_token_hash(raw), created_at=moment, expires_at=moment + timedelta(days=30)
        )
        tokens.append(raw)
    codes: list[str] = []
    common = {
        "campaign": campaign,
        "holder": holder,
        "kind": CouponKind.GIFT,
        "face_value_fen": 500_00,
        "valid_from": moment - timedelta(hours=1),
        "valid_until": moment + timedelta(days=30),
        "created_at": moment,
        "updated_at": moment,
    }
    made = 0
    while made < vouchers:
        batch = [Voucher(code=new_voucher_code(), **common) for _ in range(min(5_000, vouchers - made))]
        Voucher.objects.bulk_create(batch, batch_size=5_000)
        codes.extend(voucher.code for voucher in batch)
        made += len(batch)
    # The reference vouchers: the same rows, coded R000…, found by a sequence in pgbench.
    reference = [Voucher(code=f"R{number:015d}", **common) for number in range(1, vouchers + 1)]
    Voucher.objects.bulk_create(reference, batch_size=5_000)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {REFERENCE_TABLE} (id bigserial PRIMARY KEY, voucher_code varchar(20) NOT NULL, "
            "redeemed_at timestamptz NOT NULL, place varchar(120) NOT NULL, value_fen bigint NOT NULL)"
        )
        cursor.execute("CREATE SEQUENCE bench_voucher_seq")
    connection.close()
    return {"codes": codes, "tokens": tokens}


REFERENCE_SCRIPT = f"""SELECT nextval('bench_voucher_seq') AS n \\gset
BEGIN;
UPDATE offers_voucher SET status = 'redeemed', redeemed_at = now(), updated_at = now()
 WHERE code = 'R' || lpad(:n::text, 15, '0') AND status = 'active';
INSERT INTO {REFERENCE_TABLE} (voucher_code, redeemed_at, place, value_fen)
 VALUES ('R' || lpad(:n::text, 15, '0'), now(), '压测4S店', 50000);
END;
"""


def wrk_redeem(wrk: str, port: int, *, connections: int, duration_s: float, codes: Path, tokens: Path):
    env = {
        **os.environ,
        "FORECOURT_BENCH_CODES": str(codes),
        "FORECOURT_BENCH_TOKENS": str(tokens),
        "FORECOURT_BENCH_THREADS": str(WRK_THREADS),
    }
    command = [
        wrk, f"-t{WRK_THREADS}", f"-c{connections}", f"-d{max(1, round(duration_s))}s",
        "--timeout", "20s", "--latency", "-s", str(BENCH_DIR / "voucher_redeem.lua"),
        f"http://{HOST}:{port}/api/v1/vouchers/redeem",
    ]  # fmt: skip
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=duration_s + 60, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed: {result.stderr.strip() or result.stdout.strip()}")
    return parse_wrk(result.stdout)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    started_bench = bench_start("voucher_redeem")
    if started_bench is None:
        return 1
    wrk, work_dir, postgres = started_bench
    server: Server | None = None
    try:
        env = bench_environment(work_dir)
        env["DATABASE_URL"] = postgres.url
        # The bench measures write-offs, not the anti-probing limits.
        for name in ("STAFF", "PLACE", "IP"):
            env[f"FORECOURT_OFFERS_LOOKUP_LIMIT_PER_{name}"] = "100000000"
        vouchers = int(VOUCHERS_PER_SECOND * (args.duration + 2))
        print(f"Preparing the bench database ({vouchers:,} vouchers, {args.staff} staff) …", flush=True)
        started = time.monotonic()
        bench = prepare(env, vouchers=vouchers, staff=args.staff)
        print(f"  ready in {time.monotonic() - started:.0f} s", flush=True)
        script = work_dir / "reference.sql"
        script.write_text(REFERENCE_SCRIPT)
        reference_tps, _output = postgres.pgbench(script, clients=args.clients, duration_s=args.duration)
        print(
            f"  pgbench conditional UPDATE + INSERT at {args.clients} clients: {reference_tps:8.1f}/s",
            flush=True,
        )

        server = Server(env=env, port=free_port(), workers=args.workers, log_path=work_dir / "granian.log")
        server.start()
        probe = server.request(
            "POST",
            "/api/v1/vouchers/redeem",
            body=json.dumps({"code": bench["codes"][-1]}).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {bench['tokens'][0]}",
                "Idempotency-Key": "bench-probe",
            },
        )
        if probe.status != 200:
            raise BenchSetupError(
                f"POST /api/v1/vouchers/redeem answered {probe.status}: {probe.body[:300]!r}"
            )
        codes = work_dir / "codes.txt"
        codes.write_text("\n".join(bench["codes"][:-1]) + "\n")
        tokens = work_dir / "tokens.txt"
        tokens.write_text("\n".join(bench["tokens"]) + "\n")
        measurement = wrk_redeem(
            wrk, server.port, connections=args.clients, duration_s=args.duration, codes=codes, tokens=tokens
        )
    except (BenchSetupError, RuntimeError) as error:
        print(f"voucher_redeem: {error}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.stop()
        postgres.close()
    ratio = measurement.requests_per_second / reference_tps
    print()
    print(
        f"write-off over HTTP at {args.clients} clients: {measurement.requests_per_second:8.1f}/s "
        f"(p50 {measurement.latency_p50_ms} ms, p99 {measurement.latency_p99_ms} ms, "
        f"non-2xx {measurement.non_2xx}, socket errors {measurement.socket_errors})"
    )
    print(f"raw conditional UPDATE + INSERT (pgbench):  {reference_tps:8.1f}/s")
    mark = "" if ratio >= TARGET else "   <-- below target"
    print(f"write-off / raw update: {ratio:.2f}  (target ≥ {TARGET}){mark}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "measured_at": datetime.now(UTC).isoformat(),
                "duration_s": args.duration,
                "clients": args.clients,
                "staff": args.staff,
                "write_off_per_second": measurement.requests_per_second,
                "write_off_non_2xx": measurement.non_2xx,
                "write_off_p50_ms": measurement.latency_p50_ms,
                "write_off_p99_ms": measurement.latency_p99_ms,
                "reference_per_second": reference_tps,
                "ratio": ratio,
                "target": TARGET,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
