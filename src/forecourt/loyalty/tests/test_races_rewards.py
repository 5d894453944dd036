"""PostgreSQL races on rewards: 100 simultaneous redemptions against one balance never overspend it
(exactly floor(balance / cost) succeed, the rest are 409 `insufficient_points`, the ledger's sum never
goes below zero); ten identical requests with one Idempotency-Key redeem once; a cash part's payment
and the sweeper at the same moment end with exactly one outcome.

The 100 requests are queued at once and served by FORECOURT_RACE_DB_CONNECTIONS (default 24) worker
threads, each holding one database connection for the whole run, as a server's workers and connection
pool do (the test cluster's connections are shared with other suites).
"""

from __future__ import annotations

import os
import queue
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
from django.db.models import Sum
from django.test import Client

from forecourt.core import clock
from forecourt.core.models import Event
from forecourt.loyalty.models import EntryKind, Member, PointsEntry, RewardOrder, RewardOrderStatus
from forecourt.loyalty.services import points_state, reward_orders_sweep, reward_payment_credit, reward_redeem
from forecourt.offers.models import Campaign, ClaimTally, Voucher
from forecourt.payments.models import IntentStatus, PaymentIntent, Refund

from .rewards_cast import intent_of, make_member, make_reward, reward_campaign

POSTGRES = settings.DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (set DATABASE_URL=postgres://...)"),
    pytest.mark.django_db(transaction=True),
]

DB_SLOTS = int(os.environ.get("FORECOURT_RACE_DB_CONNECTIONS", "24"))
BALANCE = 2_550
COST = 100
REQUESTS = 100


def _served(jobs: list[Callable[[], str]], *, workers: int) -> Counter[str]:
    """Queue every job at once; `workers` threads (one connection each) serve them as fast as they can."""
    work: queue.Queue[Callable[[], str]] = queue.Queue()
    for job in jobs:
        work.put(job)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(workers)

    def serve() -> None:
        try:
            barrier.wait(timeout=60)
            while True:
                try:
                    job = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    outcome = job()
                except Exception as error:  # a crash is an outcome the assertions must see
                    outcome = f"crash: {type(error).__name__}: {error}"
                with lock:
                    outcomes[outcome] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=serve) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return outcomes


@contextmanager
def _ledger_watch(member: Member) -> Iterator[dict[str, int]]:
    """Read the member's ledger sum over and over while the race runs; remember the lowest seen."""
    seen = {"lowest": BALANCE, "reads": 0}
    stopped = threading.Event()

    def watch() -> None:
        try:
            while not stopped.is_set():
                total = PointsEntry.objects.filter(member=member).aggregate(total=Sum("points"))["total"] or 0
                seen["lowest"] = min(seen["lowest"], total)
                seen["reads"] += 1
                time.sleep(0.005)
        finally:
            connections.close_all()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        yield seen
    finally:
        stopped.set()
        watcher.join(timeout=30)


def _signed_in_cookies(member: Member) -> Any:
    client = Client()
    client.force_login(member.user)
    return client.cookies


def _redeem_request(cookies: Any, reward_id: str, key: str) -> Callable[[], str]:
    def job() -> str:
        client = Client()
        client.cookies = cookies
        answer = client.post(f"/api/v1/rewards/{reward_id}/redeem", headers={"Idempotency-Key": key})
        body = answer.json()
        return (
            str(answer.status_code) if answer.status_code == 201 else f"{answer.status_code} {body['code']}"
        )

    return job


def test_a_hundred_simultaneous_redemptions_never_overspend_one_balance() -> None:
    member = make_member(points=BALANCE)
    reward = make_reward(
        campaign=reward_campaign(budget_count=1_000, per_person_limit=REQUESTS), points_cost=COST
    )
    cookies = _signed_in_cookies(member)
    jobs = [_redeem_request(cookies, reward.public_id, f"race-{index}") for index in range(REQUESTS)]

    with _ledger_watch(member) as seen:
        outcomes = _served(jobs, workers=min(DB_SLOTS, REQUESTS))

    winners = BALANCE // COST
    assert outcomes == Counter({"201": winners, "409 insufficient_points": REQUESTS - winners}), outcomes
    assert seen["reads"] > 0 and seen["lowest"] >= 0
    spent = PointsEntry.objects.filter(member=member, kind=EntryKind.REDEEM)
    assert spent.count() == winners
    total = PointsEntry.objects.filter(member=member).aggregate(total=Sum("points"))["total"]
    assert total == BALANCE - winners * COST == points_state(member).spendable
    assert RewardOrder.objects.filter(status=RewardOrderStatus.ISSUED).count() == winners
    assert Voucher.objects.filter(holder=member.user).count() == winners
    assert Campaign.objects.get(pk=reward.campaign_id).claimed_count == winners
    assert ClaimTally.objects.get(campaign=reward.campaign, holder=member.user).claimed == winners
    assert Event.objects.filter(name="reward.redeemed").count() == winners


def test_ten_identical_requests_with_one_key_redeem_once() -> None:
    member = make_member(points=BALANCE)
    reward = make_reward(campaign=reward_campaign(per_person_limit=20), points_cost=COST)
    cookies = _signed_in_cookies(member)
    answers: list[Any] = []

    def job() -> str:
        client = Client()
        client.cookies = cookies
        answer = client.post(f"/api/v1/rewards/{reward.public_id}/redeem", headers={"Idempotency-Key": "one"})
        answers.append(answer.json())
        return str(answer.status_code)

    outcomes = _served([job] * 10, workers=10)

    assert outcomes == Counter({"201": 10}), outcomes
    assert len({answer["redemption"]["id"] for answer in answers}) == 1
    assert RewardOrder.objects.count() == 1 and Voucher.objects.count() == 1
    assert points_state(member).spendable == BALANCE - COST


def test_a_payment_and_the_sweeper_at_the_deadline_end_with_one_outcome() -> None:
    member = make_member(points=BALANCE)
    reward = make_reward(points_cost=1_500, cash_fen=49_00)
    order = reward_redeem(
        member=member, reward=reward, idempotency_key="k", actor=member.user, provider="sandbox"
    )
    intent = intent_of(order)
    # Paid at the gateway just in time; its notification arrives as the sweeper runs past the deadline.
    PaymentIntent.objects.filter(pk=intent.pk).update(status=IntentStatus.SUCCEEDED, paid_at=clock.now())
    RewardOrder.objects.filter(pk=order.pk).update(
        created_at=order.created_at - timedelta(minutes=settings.LOYALTY_PAYMENT_MINUTES)
    )
    paid_at = clock.now() - timedelta(minutes=1)

    def credit() -> str:
        credited = reward_payment_credit(
            intent=intent.public_id, reference=order.public_id, amount_fen=49_00, paid_at=paid_at
        )
        return f"credit:{credited.status if credited else None}"

    def sweep() -> str:
        return f"sweep:{reward_orders_sweep()}"

    outcomes = _served([credit, sweep], workers=2)

    assert not any(key.startswith("crash") for key in outcomes), outcomes
    final = RewardOrder.objects.get(pk=order.pk)
    # The payment was in time, so it wins: the sweeper leaves a paid redemption alone.
    assert final.status == RewardOrderStatus.ISSUED
    assert Voucher.objects.count() == 1 and not Refund.objects.exists()
    assert points_state(member).spendable == BALANCE - 1_500
    assert not PointsEntry.objects.filter(kind=EntryKind.REVERSAL).exists()
