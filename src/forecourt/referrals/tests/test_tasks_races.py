"""Real concurrency on PostgreSQL: many task results arriving at once never take more than the budget,
and one result delivered many times at once is counted once. Each thread has its own connection."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection

from forecourt.core import clock, events
from forecourt.referrals.models import Commission, Referral, Task
from forecourt.referrals.services import TaskResult, task_accept, task_results_record

from .programme_cast import *  # noqa: F403
from .programme_cast import NOV_10, make_referral, make_task
from .races import race

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

THREADS = 40


@pytest.fixture(autouse=True)
def _postgres_only(monkeypatch) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent transactions (set DATABASE_URL=postgres://...)")
    # Only the counting here: badges and other apps' reactions to the new commissions are not raced.
    monkeypatch.setattr(events, "_subscribers", {})


def _test_drive(referral: Referral) -> str:
    """One test-drive result of the referral, counted or not."""
    counted = task_results_record(result=TaskResult(referral=referral, goal="test_drive", at=NOV_10))
    return "counted" if counted else "not counted"


def test_many_results_at_once_never_exceed_the_budget(broker):
    # ¥3,000 at ¥200 a result pays for 15 of the 40 results arriving together.
    task = make_task(amount_fen=200_00, budget_fen=3_000_00)
    with clock.frozen_at(NOV_10):
        task_accept(task=task, broker=broker)
    referrals = [make_referral(broker) for _index in range(THREADS)]

    with clock.frozen_at(NOV_10):
        outcomes = race(referrals, _test_drive)

    assert outcomes == Counter({"counted": 15, "not counted": THREADS - 15})
    task.refresh_from_db()
    assert task.committed_fen == task.budget_fen == 3_000_00
    assert Commission.objects.filter(task=task).count() == 15
    assert sum(Commission.objects.filter(task=task).values_list("amount_fen", flat=True)) == 3_000_00


def test_one_result_delivered_many_times_at_once_counts_once(broker):
    task = make_task(amount_fen=200_00, budget_fen=10_000_00)
    with clock.frozen_at(NOV_10):
        task_accept(task=task, broker=broker)
    referral = make_referral(broker)

    with clock.frozen_at(NOV_10):
        outcomes = race([referral] * 12, _test_drive)

    assert outcomes == Counter({"counted": 1, "not counted": 11})
    assert Task.objects.get(pk=task.pk).committed_fen == 200_00
    assert Commission.objects.filter(task=task).count() == 1
