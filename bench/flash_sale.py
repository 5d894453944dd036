"""Flash sale under load: the HTTP order-and-hold path against pgbench doing the same SQL, in one run.

    uv run python bench/flash_sale.py [--duration 8] [--levels 16,64,128,256] [--reference-clients 32]

What one run does, on PostgreSQL (DATABASE_URL, or a throw-away cluster from scripts/pg-test-cluster):
1. makes a temporary database, migrates it, loads the demo data (`forecourt seed`), and adds two
   editions shaped like the demo's limited edition: one with ten million units (so the run never sells
   out) and one already sold out; creates one consumer with a bearer token per request to be sent
   (one live hold per buyer is a product rule, so every request is a different buyer);
2. serves the app with granian (WSGI, 2 workers, production settings) on loopback;
3. order-and-hold: wrk sends `POST /api/v1/orders {"edition": …}` with a fresh Idempotency-Key and a
   different buyer each time, at each concurrency level; every answer must be 201 (an order and a held
   unit, written through the whole service: idempotency record, order, hold, status change, event);
4. reference: pgbench runs the same conditional decrement (`UPDATE … SET units_held = units_held + 1
   WHERE units_held < units_total - units_sold`) and a hold-shaped INSERT, one transaction each, on the
   same server, at `--reference-clients` clients;
5. sold out: wrk sends the same order request for the sold-out edition (409 `sold_out`, nothing written)
   and `GET /healthz` (the app's minimal endpoint) at the same concurrency;
6. prints the three ratios the issue asks for, with their targets, and writes var/bench/flash_sale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(REPO_DIR / "src"))

from load import Load, Measurement, Target, find_wrk, parse_wrk, run_wrk  # noqa: E402
from server import HOST, BenchSetupError, Server, bench_environment, free_port  # noqa: E402

EDITION_CODE = "bench-flash"
SOLD_OUT_CODE = "bench-sold-out"
WRK_THREADS = 2
REFERENCE_TABLE = "bench_flash_hold"
# Buyers are made for the fastest rate this machine could plausibly reach, with room to spare.
BUYERS_PER_SECOND = 900


@dataclass
class Line:
    name: str
    connections: int
    requests: int = 0
    per_second: float = 0.0
    non_2xx: int = 0
    socket_errors: int = 0
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    note: str = ""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measurement (default 8)")
    parser.add_argument(
        "--levels", default="16,64,128,256", help="concurrent buyers to measure (default 16,64,128,256)"
    )
    parser.add_argument("--reference-clients", type=int, default=32, help="pgbench clients (default 32)")
    parser.add_argument("--workers", type=int, default=2, help="granian worker processes (default 2)")
    parser.add_argument("--output", type=Path, default=REPO_DIR / "var" / "bench" / "flash_sale.json")
    args = parser.parse_args(argv)
    try:
        args.levels = sorted({int(level) for level in args.levels.split(",") if level.strip()})
    except ValueError:
        parser.error("--levels takes whole numbers separated by commas, e.g. 16,64,256")
    if not args.levels or min(args.levels) < 1 or args.duration < 1:
        parser.error("--levels must be positive and --duration at least 1 second")
    return args


# --- PostgreSQL ---------------------------------------------------------------------------------


class Postgres:
    """DATABASE_URL's server, or a throw-away cluster; the bench database is made and dropped here."""

    def __init__(self) -> None:
        self.cluster_dir: Path | None = None
        configured = os.environ.get("DATABASE_URL", "")
        if configured and not configured.startswith(("postgres://", "postgresql://")):
            raise BenchSetupError("the flash-sale bench needs PostgreSQL (pgbench): DATABASE_URL is not one")
        if not configured:
            self.cluster_dir = Path(tempfile.mkdtemp(prefix="forecourt-bench-pg-"))
            started = subprocess.run(
                [str(REPO_DIR / "scripts" / "pg-test-cluster"), "start", str(self.cluster_dir)],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            if started.returncode != 0:
                raise BenchSetupError(f"could not start a PostgreSQL cluster:\n{started.stderr[-1500:]}")
            configured = started.stdout.strip().splitlines()[-1]
        parsed = urlparse(configured)
        self.name = f"forecourt_bench_flash_{uuid.uuid4().hex[:8]}"
        self.admin_url = urlunparse(parsed._replace(path="/postgres"))
        self.url = urlunparse(parsed._replace(path=f"/{self.name}"))
        self.parsed = urlparse(self.url)
        self._execute(f'CREATE DATABASE "{self.name}"')

    def _execute(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(statement)

    def pgbench(self, script: Path, *, clients: int, duration_s: float) -> tuple[float, str]:
        binary = shutil.which("pgbench") or _postgres_binary("pgbench")
        env = {**os.environ, "PGPASSWORD": self.parsed.password or ""}
        command = [
            binary, "-n", "-M", "prepared",
            "-c", str(clients), "-j", str(min(clients, WRK_THREADS)),
            "-T", str(max(1, round(duration_s))),
            "-f", str(script),
            "-h", self.parsed.hostname or HOST, "-p", str(self.parsed.port or 5432),
            "-U", self.parsed.username or "postgres", self.name,
        ]  # fmt: skip
        result = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=duration_s + 60, check=False
        )
        match = re.search(r"tps = ([\d.]+)", result.stdout)
        if result.returncode != 0 or match is None:
            raise BenchSetupError(f"pgbench failed: {result.stderr.strip()[-1000:] or result.stdout[-1000:]}")
        return float(match.group(1)), result.stdout

    def close(self) -> None:
        try:
            self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            if self.cluster_dir is not None:
                subprocess.run(
                    [str(REPO_DIR / "scripts" / "pg-test-cluster"), "stop", str(self.cluster_dir / "data")],
                    capture_output=True,
                    timeout=60,
                    check=False,
                )


def _postgres_binary(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise BenchSetupError(f"{name} not found: apt-get install postgresql")
    return str(found[-1])


# --- the bench database -------------------------------------------------------------------------


def django_migrated(env: dict[str, str]) -> None:
    """Set Django up in this process on the bench database (`env`) and migrate it."""
    os.environ.update({key: env[key] for key in ("DJANGO_SETTINGS_MODULE", "FORECOURT_VAR_DIR")})
    os.environ.update(
        {
            "DATABASE_URL": env["DATABASE_URL"],
            "FORECOURT_ALLOW_DEV_KEYS": "1",
            "FORECOURT_LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


def prepare(env: dict[str, str], *, buyers: int) -> dict[str, Any]:
    """Migrate, seed, add the bench editions and buyers; returns what the load needs to know."""
    django_migrated(env)
    import logging

    from django.core.management import call_command

    # The seed runs its sandbox payments' tasks in this process; their progress lines are not the bench's.
    logging.getLogger("django.tasks").setLevel(logging.WARNING)
    call_command("seed", verbosity=0)

    from django.db import connection, transaction

    from forecourt.accounts.models import ApiToken, Role, User
    from forecourt.accounts.services import api_token_hash
    from forecourt.core import clock
    from forecourt.orders.models import EditionStock, LimitedEdition

    demo = LimitedEdition.objects.order_by("sale_starts_at").first()
    if demo is None:
        raise BenchSetupError("the demo data has no limited edition to model the bench editions on")
    moment = clock.now()
    with transaction.atomic():
        editions = {}
        for code, units, sold in ((EDITION_CODE, 10_000_000, 0), (SOLD_OUT_CODE, 300, 300)):
            edition = LimitedEdition.objects.create(
                code=code,
                name=f"{demo.name}（压测）",
                name_en=f"{demo.name_en} (bench)",
                trim=demo.trim,
                option_codes=demo.option_codes,
                hold_minutes=demo.hold_minutes,
                intention_fen=demo.intention_fen,
                deposit_fen=demo.deposit_fen,
                sale_starts_at=moment - timedelta(hours=1),
                is_active=True,
            )
            editions[code] = EditionStock.objects.create(
                edition=edition, city=None, units_total=units, units_sold=sold
            ).pk
    raw_tokens = []
    created = 0
    expires = moment + timedelta(days=365)
    while created < buyers:
        batch = min(2_000, buyers - created)
        users = User.objects.bulk_create(
            [
                User(username=f"bench-buyer-{created + index}", role=Role.CONSUMER, display_name="压测买家")
                for index in range(batch)
            ]
        )
        tokens = []
        for user in users:
            raw = "fct_" + secrets.token_urlsafe(32)
            raw_tokens.append(raw)
            tokens.append(
                ApiToken(user=user, key_hash=api_token_hash(raw), created_at=moment, expires_at=expires)
            )
        ApiToken.objects.bulk_create(tokens)
        created += batch
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {REFERENCE_TABLE} (id bigserial PRIMARY KEY, stock_id bigint NOT NULL, "
            "buyer_id bigint NOT NULL, status varchar(10) NOT NULL, expires_at timestamptz NOT NULL, "
            "created_at timestamptz NOT NULL)"
        )
    from forecourt.dealers.models import Dealer

    dealer = Dealer.objects.filter(is_active=True, offers_delivery=True).order_by("pk").first()
    if dealer is None:
        raise BenchSetupError("the demo data has no dealer that delivers cars")
    connection.close()
    return {"stock_id": editions[EDITION_CODE], "tokens": raw_tokens, "dealer": dealer.public_id}


def token_file(tokens: list[str], directory: Path, name: str) -> Path:
    path = directory / f"{name}.txt"
    path.write_text("\n".join(tokens) + "\n")
    return path


# --- load ---------------------------------------------------------------------------------------


def wrk_orders(
    wrk: str, port: int, *, connections: int, duration_s: float, tokens: Path, body: dict, run: str
) -> Measurement:
    env = {
        **os.environ,
        "FORECOURT_BENCH_TOKENS": str(tokens),
        "FORECOURT_BENCH_THREADS": str(WRK_THREADS),
        "FORECOURT_BENCH_BODY": json.dumps(body),
        "FORECOURT_BENCH_RUN": run,
    }
    command = [
        wrk, f"-t{WRK_THREADS}", f"-c{connections}", f"-d{max(1, round(duration_s))}s",
        "--timeout", "20s", "--latency", "-s", str(BENCH_DIR / "flash.lua"),
        f"http://{HOST}:{port}/api/v1/orders",
    ]  # fmt: skip
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=duration_s + 60, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed: {result.stderr.strip() or result.stdout.strip()}")
    return parse_wrk(result.stdout)


def as_line(name: str, connections: int, measurement: Measurement, note: str = "") -> Line:
    return Line(
        name=name,
        connections=connections,
        requests=measurement.requests,
        per_second=measurement.requests_per_second,
        non_2xx=measurement.non_2xx,
        socket_errors=measurement.socket_errors,
        latency_p50_ms=measurement.latency_p50_ms,
        latency_p99_ms=measurement.latency_p99_ms,
        note=note,
    )


def bench_start(name: str) -> tuple[str, Path, Postgres] | None:
    """wrk, a private work directory and PostgreSQL for one bench; None (after saying why) when missing."""
    wrk = find_wrk(install=True)
    if wrk is None:
        print(f"{name}: wrk is required (apt-get install -y wrk)", file=sys.stderr)
        return None
    work_dir = Path(tempfile.mkdtemp(prefix=f"forecourt-bench-{name}-"))
    try:
        return wrk, work_dir, Postgres()
    except BenchSetupError as error:
        print(f"{name}: {error}", file=sys.stderr)
        return None


REFERENCE_SCRIPT = f"""\\set buyer random(1, 1000000000)
BEGIN;
UPDATE orders_editionstock SET units_held = units_held + 1
 WHERE id = :stock AND units_held < units_total - units_sold;
INSERT INTO {REFERENCE_TABLE} (stock_id, buyer_id, status, expires_at, created_at)
 VALUES (:stock, :buyer, 'held', now() + interval '15 minutes', now());
END;
"""


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    started_bench = bench_start("flash_sale")
    if started_bench is None:
        return 1
    wrk, work_dir, postgres = started_bench
    server: Server | None = None
    lines: list[Line] = []
    try:
        env = bench_environment(work_dir)
        env["DATABASE_URL"] = postgres.url
        per_level = int(BUYERS_PER_SECOND * (args.duration + 2))
        buyers = per_level * len(args.levels)
        print(f"Preparing the bench database ({buyers:,} buyers) …", flush=True)
        started = time.monotonic()
        bench = prepare(env, buyers=buyers)
        print(f"  ready in {time.monotonic() - started:.0f} s", flush=True)
        # pgbench first: the app's pooled connections would otherwise take the server's slots.
        script = work_dir / "reference.sql"
        script.write_text(REFERENCE_SCRIPT.replace(":stock", str(bench["stock_id"])))
        tps, _output = postgres.pgbench(script, clients=args.reference_clients, duration_s=args.duration)
        lines.append(Line(name="pgbench reference", connections=args.reference_clients, per_second=tps))
        print(f"  pgbench same SQL at {args.reference_clients:>3} clients: {tps:8.1f}/s", flush=True)

        server = Server(env=env, port=free_port(), workers=args.workers, log_path=work_dir / "granian.log")
        server.start()
        body = {"edition": EDITION_CODE, "dealer": bench["dealer"]}
        probe = server.request(
            "POST",
            "/api/v1/orders",
            body=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {bench['tokens'][-1]}",
                "Idempotency-Key": "bench-probe",
            },
        )
        if probe.status != 201:
            raise BenchSetupError(f"POST /api/v1/orders answered {probe.status}: {probe.body[:300]!r}")
        tokens = bench["tokens"][:-1]
        for index, connections in enumerate(args.levels):
            chunk = tokens[index * per_level : (index + 1) * per_level]
            path = token_file(chunk, work_dir, f"level-{connections}")
            measurement = wrk_orders(
                wrk,
                server.port,
                connections=connections,
                duration_s=args.duration,
                tokens=path,
                body=body,
                run=f"level{connections}",
            )
            lines.append(as_line("order-and-hold", connections, measurement))
            print(
                f"  order-and-hold at {connections:>3} buyers: {measurement.requests_per_second:8.1f}/s",
                flush=True,
            )

        # Sold out, the same buyers ask again and again (pressing refresh): 512 of them here.
        sold_out_tokens = token_file(tokens[:512], work_dir, "sold-out")
        probe = server.request(
            "POST",
            "/api/v1/orders",
            body=json.dumps({"edition": SOLD_OUT_CODE, "dealer": bench["dealer"]}).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {tokens[0]}",
                "Idempotency-Key": "bench-sold-out",
            },
        )
        sold_out_code = probe.json().get("code") if probe.status == 409 else None
        if sold_out_code != "sold_out":
            raise BenchSetupError(f"the sold-out edition answered {probe.status}: {probe.body[:300]!r}")
        connections = args.reference_clients
        measurement = wrk_orders(
            wrk,
            server.port,
            connections=connections,
            duration_s=args.duration,
            tokens=sold_out_tokens,
            body={"edition": SOLD_OUT_CODE, "dealer": bench["dealer"]},
            run="soldout",
        )
        lines.append(as_line("sold-out answer", connections, measurement, note="409 sold_out expected"))
        minimal = run_wrk(
            wrk,
            Target(HOST, server.port, "GET", "/healthz"),
            Load(duration_s=args.duration, connections=connections, threads=WRK_THREADS),
        )
        lines.append(as_line("minimal endpoint", connections, minimal))
    except (BenchSetupError, RuntimeError) as error:
        print(f"flash_sale: {error}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.stop()
        postgres.close()
    report(lines, args)
    return 0


def report(lines: list[Line], args: argparse.Namespace) -> None:
    orders = [line for line in lines if line.name == "order-and-hold"]
    reference = next(line for line in lines if line.name == "pgbench reference")
    sold_out = next(line for line in lines if line.name == "sold-out answer")
    minimal = next(line for line in lines if line.name == "minimal endpoint")
    peak = max(orders, key=lambda line: line.per_second)
    at_256 = next((line for line in orders if line.connections == 256), orders[-1])
    same_clients = min(orders, key=lambda line: abs(line.connections - reference.connections))
    ratios = [
        ("order-and-hold peak / pgbench", peak.per_second / reference.per_second, 0.5),
        (f"order-and-hold at {at_256.connections} / peak", at_256.per_second / peak.per_second, 0.8),
        ("sold-out answer / minimal endpoint", sold_out.per_second / minimal.per_second, 0.8),
    ]
    print()
    print(f"{'measurement':<24} {'conns':>5} {'per s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for line in lines:
        p50 = f"{line.latency_p50_ms:.1f}" if line.latency_p50_ms is not None else "-"
        p99 = f"{line.latency_p99_ms:.1f}" if line.latency_p99_ms is not None else "-"
        print(
            f"{line.name:<24} {line.connections:>5} {line.per_second:>9.1f} "
            f"{p50:>8} {p99:>8} {line.non_2xx:>8}"
        )
    print()
    for name, ratio, target in ratios:
        mark = "" if ratio >= target else "   <-- below target"
        print(f"{name:<40} {ratio:6.2f}  (target ≥ {target}){mark}")
    print(
        f"(pgbench at {reference.connections} clients; order-and-hold at {same_clients.connections}: "
        f"{same_clients.per_second / reference.per_second:.2f})"
    )
    errors = [line for line in orders if line.non_2xx or line.socket_errors]
    for line in errors:
        print(
            f"NOTE: {line.non_2xx} non-201 answers and {line.socket_errors} socket errors "
            f"at {line.connections} buyers"
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "measured_at": datetime.now(UTC).isoformat(),
                "duration_s": args.duration,
                "lines": [asdict(line) for line in lines],
                "ratios": [
                    {"name": name, "ratio": ratio, "target": target} for name, ratio, target in ratios
                ],
            },
            indent=2,
        )
    )
    shown = args.output.relative_to(REPO_DIR) if args.output.is_relative_to(REPO_DIR) else args.output
    print(f"\nwritten to {shown}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
