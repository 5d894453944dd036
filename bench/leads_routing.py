"""Route leads across the demo dealer network in-process (`lead_capture`) and compare with bare INSERTs.

    uv run python bench/leads_routing.py [--count 100000] [--keep]

What it does, in one run and on one database:
1. makes a throw-away database of the configured kind: a fresh SQLite file in a temporary var dir,
   or, when DATABASE_URL points at PostgreSQL, a temporary database on that server (dropped at the end
   unless --keep); migrates it and seeds the demo network (dealers, catalogue, demo logins);
2. sizes each sales dealer's lead capacity to the run, so every lead is really routed to a dealer
   (with the demo capacities the network would be full after ~7,000 leads and the rest would queue);
3. captures `--count` inquiries from distinct phones for random models in cities weighted like the
   demo network (95 % with consent to share), each one the full service: person, consent, dedupe
   check, routing (nearest sales dealers, load against capacity), lead, touchpoint, routing decision
   and events, each in its own transaction;
4. inserts the same number of rows, one INSERT per transaction, into a bare table shaped like the lead
   table (no constraints, no indexes but the key) in the same run;
5. prints leads per second, inserts per second and their ratio, and where the leads went.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

REPO_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_DIR / "src"))

BARE_TABLE = "bench_bare_lead"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="leads to route (default 100000)")
    parser.add_argument("--seed", type=int, default=20261122, help="random seed for the inquiries")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument(
        "--progress", type=int, default=10_000, help="print progress every N leads (0: never)"
    )
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    return args


def _postgres_bench_url(url: str) -> tuple[str, str, str]:
    """(admin URL, bench URL, bench database name) on the server DATABASE_URL names."""
    parsed = urlparse(url)
    name = f"forecourt_bench_{uuid.uuid4().hex[:8]}"
    return urlunparse(parsed._replace(path="/postgres")), urlunparse(parsed._replace(path=f"/{name}")), name


def _postgres(admin_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(statement)


def prepare_environment(args: argparse.Namespace) -> tuple[str, Any]:
    """Point Django at a throw-away database; returns (a description, a clean-up callable)."""
    var_dir = Path(tempfile.mkdtemp(prefix="forecourt-bench-leads-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "forecourt.config.settings",
            "FORECOURT_VAR_DIR": str(var_dir),
            "FORECOURT_ALLOW_DEV_KEYS": "1",
            "FORECOURT_LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("FORECOURT_DEMO", None)
    configured = os.environ.get("DATABASE_URL", "")
    if configured.startswith(("postgres://", "postgresql://")):
        admin_url, bench_url, name = _postgres_bench_url(configured)
        _postgres(admin_url, f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = bench_url

        def drop() -> None:
            from django.db import connections

            connections.close_all()
            if not args.keep:
                _postgres(admin_url, f'DROP DATABASE IF EXISTS "{name}"')

        return f"PostgreSQL, temporary database {name}", drop
    os.environ.pop("DATABASE_URL", None)
    return f"SQLite (WAL), {var_dir / 'forecourt.sqlite3'}", lambda: None


def seed_network() -> None:
    from django.core.management import call_command
    from django.db import transaction

    from forecourt.accounts import demo_data as accounts_demo
    from forecourt.catalog import demo_data as catalog_demo
    from forecourt.dealers import demo_data as dealers_demo

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    rng = random.Random(20261122)
    for module in (dealers_demo, catalog_demo, accounts_demo):
        with transaction.atomic():
            module.seed(rng=rng)


def size_capacity(count: int) -> int:
    """Give each sales dealer room for its share of the run (twice the average), kept in proportion."""
    from forecourt.dealers.models import Dealer

    dealers = list(Dealer.objects.filter(is_active=True, offers_sales=True))
    total = sum(dealer.lead_capacity for dealer in dealers) or 1
    factor = max(1.0, 2.0 * count / total)
    for dealer in dealers:
        dealer.lead_capacity = int(dealer.lead_capacity * factor) + 1
    Dealer.objects.bulk_update(dealers, ["lead_capacity"])
    return len(dealers)


def inquiries(count: int, seed: int) -> list[dict[str, Any]]:
    from forecourt.catalog.models import VehicleModel
    from forecourt.core.demo_people import demo_mobile
    from forecourt.dealers.models import Dealer

    rng = random.Random(seed)
    city_weights = Counter(
        Dealer.objects.filter(is_active=True, offers_sales=True).values_list("city__code", flat=True)
    )
    cities, weights = zip(*sorted(city_weights.items()), strict=True)
    models = list(VehicleModel.objects.filter(is_active=True).values_list("code", flat=True))
    channels = ["web_price_inquiry", "live_stream", "web_test_drive", "web_question", "broker_link"]
    phones: set[str] = set()
    rows: list[dict[str, Any]] = []
    while len(rows) < count:
        phone = demo_mobile(rng)
        if phone in phones:
            continue
        phones.add(phone)
        rows.append(
            {
                "name": "测试用户",
                "phone": phone,
                "city_code": rng.choices(cities, weights=weights)[0],
                "model_code": rng.choice(models),
                "channel": rng.choice(channels),
                "source_site": rng.choice(["autohome", "dongchedi", "yiche", "douyin", "wechat"]),
                "share_with_dealer": rng.random() < 0.95,
            }
        )
    return rows


def route_all(rows: list[dict[str, Any]], progress: int) -> float:
    from forecourt.leads.services import lead_capture

    started = time.perf_counter()
    for index, row in enumerate(rows, start=1):
        lead_capture(**row)
        if progress and index % progress == 0:
            elapsed = time.perf_counter() - started
            print(f"  … {index:,} leads routed, {index / elapsed:,.0f}/s", flush=True)
    return time.perf_counter() - started


def bare_inserts(count: int) -> float:
    """The same number of rows, one INSERT per transaction, into a table shaped like the lead table."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {BARE_TABLE}")
        key = (
            "BIGSERIAL PRIMARY KEY"
            if connection.vendor == "postgresql"
            else "INTEGER PRIMARY KEY AUTOINCREMENT"
        )
        cursor.execute(
            f"CREATE TABLE {BARE_TABLE} (id {key}, public_id VARCHAR(32), person_id BIGINT, "
            "name VARCHAR(60), city_id BIGINT, model_id BIGINT, status VARCHAR(20), dealer_id BIGINT, "
            "first_channel VARCHAR(30), first_source_site VARCHAR(80), first_touch_at TIMESTAMP, "
            "sla_deadline TIMESTAMP, created_at TIMESTAMP)"
        )
    sql = (
        f"INSERT INTO {BARE_TABLE} (public_id, person_id, name, city_id, model_id, status, dealer_id, "
        "first_channel, first_source_site, first_touch_at, sla_deadline, created_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    from forecourt.core import clock

    moment = clock.now()
    started = time.perf_counter()
    for index in range(count):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                sql,
                [
                    f"ld_{index:016d}",
                    index,
                    "测试用户",
                    1,
                    1,
                    "new",
                    index % 70 + 1,
                    "web_price_inquiry",
                    "autohome",
                    moment,
                    moment,
                    moment,
                ],
            )
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {BARE_TABLE}")
    return elapsed


def report(count: int, routed_s: float, bare_s: float, database: str, dealers: int) -> None:
    from django.db.models import Count

    from forecourt.leads.models import Lead, LeadStatus, RoutingDecision

    leads_per_s = count / routed_s
    inserts_per_s = count / bare_s
    by_status = dict(Lead.objects.values_list("status").annotate(n=Count("id")))
    reasons = dict(RoutingDecision.objects.values_list("reason_code").annotate(n=Count("id")))
    per_dealer = list(
        Lead.objects.filter(status=LeadStatus.NEW)
        .values("dealer_id")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    print()
    print(f"database        {database}")
    print(f"network         {dealers} sales dealers (capacity sized to the run)")
    print(f"leads routed    {count:,} in {routed_s:,.1f} s  →  {leads_per_s:,.0f} leads/s")
    print(f"bare inserts    {count:,} in {bare_s:,.1f} s  →  {inserts_per_s:,.0f} inserts/s")
    print(f"ratio           {leads_per_s / inserts_per_s:.3f} (routed leads per bare insert)")
    print(f"outcome         {by_status}")
    print(f"reasons         {reasons}")
    if per_dealer:
        print(
            f"leads/dealer    min {min(per_dealer):,}, max {max(per_dealer):,}, "
            f"dealers used {len(per_dealer)}"
        )


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    database, clean_up = prepare_environment(args)
    import django

    django.setup()
    try:
        print(f"Seeding the demo network into {database} …", flush=True)
        seed_network()
        dealers = size_capacity(args.count)
        rows = inquiries(args.count, args.seed)
        print(f"Routing {args.count:,} leads through lead_capture …", flush=True)
        routed_s = route_all(rows, args.progress)
        print(f"Inserting {args.count:,} bare rows …", flush=True)
        bare_s = bare_inserts(args.count)
        report(args.count, routed_s, bare_s, database, dealers)
    finally:
        clean_up()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
