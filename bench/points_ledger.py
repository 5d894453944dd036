"""The points ledger: reading a derived balance and spending under the member's lock, against bare SQL.

    uv run python bench/points_ledger.py [--sizes 100,1000,5000] [--spends 500] [--keep]

What it does, in one run and on one database (a throw-away SQLite file, or a temporary PostgreSQL
database when DATABASE_URL points at PostgreSQL):
1. for each size, makes one member whose ledger holds that many entries, mixed like a long-time member's
   (earnings with holding periods across several years, spends, reversals, written expiries);
2. reads the member's points with `points_state` (every entry fetched and replayed: spendable, pending,
   expiring, owed) and, in the same run, with a bare `SELECT SUM(points)` on the same rows: the
   reference a stored-balance design would pay at best;
3. spends one point at a time with `points_spend` (lock the member row, replay, insert, record the
   event, each in its own transaction) and, as the reference, a bare loop of `SELECT … FOR UPDATE` on the
   member row and one INSERT per transaction;
4. prints per-operation times and the ratios.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from leads_routing import prepare_environment  # noqa: E402  (the bench scripts share one set-up)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,5000", help="ledger sizes to read (entries)")
    parser.add_argument("--reads", type=int, default=50, help="reads per size (default 50)")
    parser.add_argument("--spends", type=int, default=500, help="spends to time (default 500)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    args = parser.parse_args(argv)
    args.size_list = [int(part) for part in args.sizes.split(",") if part.strip()]
    if not args.size_list or min(args.size_list) < 1 or args.reads < 1 or args.spends < 1:
        parser.error("sizes, reads and spends must be positive")
    return args


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)


def member_with(entries: int, rng: random.Random, index: int):  # type: ignore[no-untyped-def]
    """A member whose ledger holds `entries` rows, written straight into the table (fast set-up)."""
    from forecourt.accounts.models import User
    from forecourt.core import clock
    from forecourt.loyalty.models import EntryKind, Member, PointsEntry
    from forecourt.loyalty.selectors import points_expiry_for

    user = User.objects.create_user(username=f"bench-member-{index}", password=None)
    start = clock.now() - timedelta(days=3 * 365)
    member = Member.objects.create(user=user, joined_at=start)
    step = timedelta(days=3 * 365) / entries
    rows: list[PointsEntry] = []
    earned: list[int] = []
    for n in range(entries):
        moment = start + step * n
        roll = rng.random()
        if roll < 0.6 or not earned:
            points = rng.choice([10, 20, 50, 100, 500])
            rows.append(
                PointsEntry(
                    member=member,
                    kind=EntryKind.EARN,
                    points=points,
                    reason="bench",
                    idempotency_key=f"bench:{index}:{n}",
                    occurred_at=moment,
                    available_at=moment + timedelta(days=rng.choice([0, 0, 7])),
                    expires_at=points_expiry_for(moment),
                    qualifying=True,
                )
            )
            earned.append(n)
        else:
            rows.append(
                PointsEntry(
                    member=member,
                    kind=EntryKind.REDEEM,
                    points=-rng.choice([5, 10, 20]),
                    reason="bench",
                    idempotency_key=f"bench:{index}:{n}",
                    occurred_at=moment,
                )
            )
    PointsEntry.objects.bulk_create(rows, batch_size=1000)
    return member


def time_reads(member, reads: int) -> tuple[float, float, int, int]:  # type: ignore[no-untyped-def]
    """(replay seconds per read, bare SUM seconds per read, replayed balance, SQL sum)."""
    from django.db import connection

    from forecourt.loyalty.services import points_state

    state = points_state(member)
    replay_times = []
    for _ in range(reads):
        started = time.perf_counter()
        state = points_state(member)
        replay_times.append(time.perf_counter() - started)
    sql_times = []
    total = 0
    with connection.cursor() as cursor:
        for _ in range(reads):
            started = time.perf_counter()
            cursor.execute("SELECT SUM(points) FROM loyalty_pointsentry WHERE member_id = %s", [member.pk])
            total = int(cursor.fetchone()[0] or 0)
            sql_times.append(time.perf_counter() - started)
    return statistics.median(replay_times), statistics.median(sql_times), state.balance, total


def time_spends(member, spends: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(seconds per `points_spend`, seconds per bare lock-and-insert), each in its own transaction."""
    from django.db import connection, transaction

    from forecourt.core import clock
    from forecourt.loyalty.services import points_earn, points_spend

    points_earn(member=member, points=spends + 10, reason="bench", idempotency_key=f"bench-fund:{member.pk}")
    started = time.perf_counter()
    for n in range(spends):
        points_spend(member=member, points=1, reason="bench", idempotency_key=f"bench-spend:{member.pk}:{n}")
    product = (time.perf_counter() - started) / spends
    sql = (
        "INSERT INTO loyalty_pointsentry (member_id, kind, points, reason, note, source_event, "
        "source_ref, idempotency_key, occurred_at, qualifying) "
        "VALUES (%s, 'redeem', -1, 'bench', '', '', '', %s, %s, false)"
    )
    moment = clock.now()
    started = time.perf_counter()
    for n in range(spends):
        with transaction.atomic(), connection.cursor() as cursor:
            lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
            cursor.execute(f"SELECT id FROM loyalty_member WHERE id = %s{lock}", [member.pk])
            cursor.execute(sql, [member.pk, f"bench-bare:{member.pk}:{n}", moment])
    bare = (time.perf_counter() - started) / spends
    return product, bare


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    database, clean_up = prepare_environment(args)
    import django

    django.setup()
    from forecourt.loyalty.services import points_state

    try:
        migrate()
        rng = random.Random(20261122)
        print(f"database   {database}")
        print()
        print(f"{'entries':>8}  {'replay ms':>10}  {'SUM ms':>8}  {'ratio':>7}  balance check")
        for index, size in enumerate(args.size_list):
            member = member_with(size, rng, index)
            replay_s, sql_s, balance, total = time_reads(member, args.reads)
            unwritten = sum(points for _lot, points, _at in points_state(member).unwritten_expiries)
            check = "ok" if balance == total - unwritten else f"MISMATCH {balance} vs {total - unwritten}"
            print(
                f"{size:>8,}  {replay_s * 1000:>10.2f}  {sql_s * 1000:>8.3f}  "
                f"{sql_s / replay_s:>7.3f}  {check}"
            )
        print()
        small = member_with(50, rng, len(args.size_list))
        spend_s, bare_s = time_spends(small, args.spends)
        print(
            f"spends     points_spend {spend_s * 1000:.2f} ms each ({1 / spend_s:,.0f}/s); "
            f"bare lock + insert {bare_s * 1000:.2f} ms each ({1 / bare_s:,.0f}/s); "
            f"ratio {bare_s / spend_s:.3f}"
        )
    finally:
        clean_up()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
