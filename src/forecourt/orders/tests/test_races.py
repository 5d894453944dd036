"""Real concurrency: flash-sale buyers racing for limited units, late-delivery readers racing for a day,
and identical order placements racing on one Idempotency-Key. Each thread has its own connection.

PostgreSQL runs these at full size; the flash sale runs on SQLite too, with the demo's server settings
(a file database in WAL mode, IMMEDIATE transactions, a 30-second busy timeout).

The buyers are 200 client threads released together; they are served by FORECOURT_RACE_DB_CONNECTIONS
(default 48) worker threads, each holding one database connection for the whole run, as a server's
workers and connection pool do (the test cluster allows 100 connections, shared with other suites).
"""

from __future__ import annotations

import os
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

from forecourt.accounts.models import Role, User
from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.orders.models import EditionHold, EditionStock, Order, OrderLateDay
from forecourt.orders.services import order_late_days_accrue, order_place

from .conftest import fresh, intent_for, make_edition, notify_paid

POSTGRES = settings.DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
postgres_only = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (set DATABASE_URL=postgres://...)"),
]
pytestmark = [pytest.mark.django_db(transaction=True)]

DB_SLOTS = int(os.environ.get("FORECOURT_RACE_DB_CONNECTIONS", "48"))
# SQLite serialises every write, so its full-size run (the PostgreSQL sizes) takes about 30 s on two cores;
# the default suite runs it at a third of the size. FORECOURT_RACE_FULL=1 runs the full size.
SQLITE_FULL = os.environ.get("FORECOURT_RACE_FULL", "") == "1"
TIMINGS: dict[str, float] = {}


def _buyers(count: int, prefix: str) -> list[User]:
    User.objects.bulk_create(
        [User(username=f"{prefix}-{index}", role=Role.CONSUMER, password="!") for index in range(count)],
        batch_size=500,
    )
    return list(User.objects.filter(username__startswith=f"{prefix}-").order_by("pk"))


@contextmanager
def _stock_watch(edition) -> Iterator[dict[str, int]]:
    """Read the stock row over and over while the race runs; remember the extremes seen."""
    seen = {"max_promised": 0, "min_held": 0, "min_sold": 0, "reads": 0}
    stopped = threading.Event()

    def watch() -> None:
        try:
            while not stopped.is_set():
                stock = EditionStock.objects.get(edition=edition)
                seen["max_promised"] = max(seen["max_promised"], stock.units_held + stock.units_sold)
                seen["min_held"] = min(seen["min_held"], stock.units_held)
                seen["min_sold"] = min(seen["min_sold"], stock.units_sold)
                seen["reads"] += 1
                time.sleep(0.002)
        finally:
            connections.close_all()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        yield seen
    finally:
        stopped.set()
        watcher.join(timeout=30)


def _race(people: list[Any], *, threads: int, work: Callable[[Any], str]) -> Counter[str]:
    """`threads` client threads, released together, take people off one queue and each sends one request
    at a time to a server of DB_SLOTS worker threads (each with its own database connection, kept for the
    whole run as a pooled connection is); every client waits for its answer before sending the next."""
    people_queue = iter(people)
    people_lock, count_lock = threading.Lock(), threading.Lock()
    requests: queue.Queue[tuple[Any, queue.Queue[str]] | None] = queue.Queue()
    barrier = threading.Barrier(threads)
    outcomes: Counter[str] = Counter()

    def serve() -> None:
        try:
            while (request := requests.get()) is not None:
                person, reply = request
                try:
                    outcome = work(person)
                except DomainError as error:
                    outcome = error.code
                except Exception as error:  # a crash is an outcome the assertions must see
                    outcome = f"crash: {type(error).__name__}: {error}"
                reply.put(outcome)
        finally:
            connections.close_all()

    def client() -> None:
        reply: queue.Queue[str] = queue.Queue(maxsize=1)
        barrier.wait(timeout=60)
        while True:
            with people_lock:
                person = next(people_queue, None)
            if person is None:
                return
            requests.put((person, reply))
            outcome = reply.get(timeout=300)
            with count_lock:
                outcomes[outcome] += 1

    workers = [threading.Thread(target=serve) for _ in range(min(DB_SLOTS, threads))]
    clients = [threading.Thread(target=client) for _ in range(threads)]
    for thread in [*workers, *clients]:
        thread.start()
    for thread in clients:
        thread.join(timeout=600)
    for _worker in workers:
        requests.put(None)
    for worker in workers:
        worker.join(timeout=60)
    return outcomes


def _buy(
    edition,
    dealer,
    *,
    rng: random.Random | None = None,
    jitter: float = 0.0,
    abandon: frozenset[int] = frozenset(),
) -> Callable[[User], str]:
    def buy(buyer: User) -> str:
        if rng is not None:
            time.sleep(rng.random() * jitter)
        order = order_place(buyer=buyer, edition=edition, dealer=dealer)
        if buyer.pk in abandon:
            return "abandoned"
        if rng is not None:
            time.sleep(rng.random() * jitter)
        notify_paid(intent_for(order, "intention"))
        status = fresh(order).status
        return "paid" if status == "intention_paid" else f"paid-but-{status}"

    return buy


def _confirmed(edition) -> int:
    return EditionHold.objects.filter(stock__edition=edition, status="confirmed").count()


@pytest.fixture(autouse=True)
def _catalogue_cache_as_in_production(settings) -> None:
    # The test runner turns the catalogue's snapshot cache off; the server keeps it (5 s).
    settings.CATALOG_CACHE_SECONDS = 5


def _flash_sale(catalogue, dealer, *, units: int, buyers: int, threads: int, label: str) -> None:
    edition = make_edition(catalogue, units=units, code=f"flash-{label}")
    people = _buyers(buyers, label)
    started = time.perf_counter()
    with _stock_watch(edition) as seen:
        outcomes = _race(people, threads=threads, work=_buy(edition, dealer))
    TIMINGS[label] = time.perf_counter() - started

    assert not [outcome for outcome in outcomes if outcome.startswith("crash") or "-but-" in outcome], (
        outcomes
    )
    assert outcomes["paid"] == units
    assert outcomes["paid"] + outcomes["sold_out"] + outcomes["all_units_held"] == buyers
    assert _confirmed(edition) == units
    assert Order.objects.filter(edition=edition, status="intention_paid").count() == units
    stock = EditionStock.objects.get(edition=edition)
    assert (stock.units_total, stock.units_held, stock.units_sold) == (units, 0, units)
    assert seen["max_promised"] <= units and seen["min_held"] >= 0 and seen["min_sold"] >= 0
    assert seen["reads"] > 0
    print(
        f"\n[{label}] {buyers} buyers, {threads} at once, {units} units: "
        f"{TIMINGS[label]:.2f}s {dict(outcomes)}"
    )


def _flash_sale_with_jitter(
    catalogue, dealer, *, units: int, buyers: int, threads: int, label: str, seed: int
) -> None:
    """Random timing, and a fifth of the buyers who get a unit never pay: their holds expire and the
    buyers refused meanwhile come back for those units."""
    rng = random.Random(seed)
    edition = make_edition(catalogue, units=units, code=f"jitter-{label}")
    people = _buyers(buyers, label)
    rng.shuffle(people)
    abandon = frozenset(person.pk for person in people if rng.random() < 0.2)
    started = time.perf_counter()
    with _stock_watch(edition) as seen:
        first = _race(
            people, threads=threads, work=_buy(edition, dealer, rng=rng, jitter=0.01, abandon=abandon)
        )
        abandoned = first["abandoned"]
        assert abandoned > 0, first
        assert _confirmed(edition) == units - abandoned
        clock.advance(timedelta(minutes=16))  # every unpaid hold has expired by now
        refused = [
            person
            for person in people
            if person.pk not in abandon and not Order.objects.filter(buyer=person, edition=edition).exists()
        ]
        second = _race(refused, threads=threads, work=_buy(edition, dealer, rng=rng, jitter=0.01))
    TIMINGS[label] = time.perf_counter() - started

    everything = first + second
    assert not [outcome for outcome in everything if outcome.startswith("crash") or "-but-" in outcome], (
        everything
    )
    assert _confirmed(edition) == units
    assert first["paid"] + second["paid"] == units
    assert EditionHold.objects.filter(stock__edition=edition, status="expired").count() == abandoned
    stock = EditionStock.objects.get(edition=edition)
    assert (stock.units_held, stock.units_sold) == (0, units)
    assert seen["max_promised"] <= units and seen["min_held"] >= 0
    print(f"\n[{label}] seed {seed}: {TIMINGS[label]:.2f}s first {dict(first)} second {dict(second)}")


@pytest.mark.parametrize("_postgres", [pytest.param(None, marks=postgres_only)])
def test_postgres_flash_sale_2000_buyers_200_at_once_300_units(_postgres, catalogue, dealer):
    _flash_sale(catalogue, dealer, units=300, buyers=2000, threads=200, label="pg")


@pytest.mark.parametrize("seed", [pytest.param(seed, marks=postgres_only) for seed in (7, 2026)])
def test_postgres_flash_sale_with_random_timing_and_abandoned_holds(seed, catalogue, dealer):
    _flash_sale_with_jitter(
        catalogue, dealer, units=300, buyers=2000, threads=200, label=f"pgj{seed}", seed=seed
    )


@pytest.mark.skipif(POSTGRES, reason="the SQLite variant of the flash sale")
def test_sqlite_flash_sale_with_the_demo_server_settings(catalogue, dealer):
    database = settings.DATABASES["default"]
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]
    units, buyers = (300, 2000) if SQLITE_FULL else (100, 700)
    _flash_sale(catalogue, dealer, units=units, buyers=buyers, threads=200, label="sqlite")


@pytest.mark.skipif(POSTGRES, reason="the SQLite variant of the flash sale")
def test_sqlite_flash_sale_with_random_timing_and_abandoned_holds(catalogue, dealer):
    units, buyers = (300, 2000) if SQLITE_FULL else (40, 300)
    _flash_sale_with_jitter(
        catalogue, dealer, units=units, buyers=buyers, threads=200, label="sqlitej", seed=11
    )


@pytest.mark.parametrize("_postgres", [pytest.param(None, marks=postgres_only)])
def test_500_identical_placements_with_one_key_make_one_order_and_identical_answers(
    _postgres, configuration, dealer, buyer
):
    signed_in = Client()
    signed_in.force_login(buyer)
    body = f'{{"configuration": "{configuration.share_code}", "dealer": "{dealer.public_id}"}}'
    answers: list[tuple[int, bytes]] = []
    answers_lock = threading.Lock()

    def place(_index: int) -> str:
        client = Client()
        client.cookies = signed_in.cookies
        response = client.post(
            "/api/v1/orders",
            data=body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="one-key-for-all",
        )
        with answers_lock:
            answers.append((response.status_code, response.content))
        return str(response.status_code)

    started = time.perf_counter()
    outcomes = _race(list(range(500)), threads=500, work=place)
    TIMINGS["idempotency"] = time.perf_counter() - started

    assert outcomes == Counter({"201": 500})
    assert Order.objects.count() == 1
    assert len(set(answers)) == 1
    print(f"\n[idempotency] 500 identical placements: {TIMINGS['idempotency']:.2f}s")


@pytest.mark.parametrize("_postgres", [pytest.param(None, marks=postgres_only)])
def test_readers_racing_for_the_same_late_day_record_it_once(_postgres, final_paid_order):
    clock.advance(timedelta(days=20))  # 13 December: 8th to 12th are whole late days
    outcomes = _race(
        list(range(16)),
        threads=16,
        work=lambda _i: str(order_late_days_accrue(order=fresh(final_paid_order))),
    )
    assert sum(int(count) * times for count, times in outcomes.items()) == 5
    assert OrderLateDay.objects.filter(order=final_paid_order).count() == 5
