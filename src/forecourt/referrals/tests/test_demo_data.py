"""The broker programme's demo data on a fresh database after the upstream seeds: brokers with referrals in
every stage (a flagged one held, one clawed back), a running task with results, statements with a payout.
One test: seeding is slow."""

from __future__ import annotations

import random
from datetime import date, datetime

import pytest
from django.db.models import Sum

from forecourt.accounts import demo_data as accounts_demo
from forecourt.catalog import demo_data as catalog_demo
from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.core.models import EventDelivery
from forecourt.dealers import demo_data as dealers_demo
from forecourt.orders import demo_data as orders_demo
from forecourt.referrals import demo_data
from forecourt.referrals.honours_selectors import leaderboard
from forecourt.referrals.models import (
    Broker,
    BrokerBadge,
    Commission,
    CommissionStatus,
    Payout,
    Stage,
    Statement,
    StatementStatus,
    Task,
    TaskStatus,
)
from forecourt.referrals.selectors import referral_effective_stage

pytestmark = pytest.mark.django_db

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


def test_demo_programme_has_every_stage_a_running_task_and_statements() -> None:
    rng = random.Random(7)
    with clock.frozen_at(MONDAY_10):
        for module in (dealers_demo, catalog_demo, accounts_demo, orders_demo, demo_data):
            module.seed(rng=rng)
        main = Broker.objects.get(user__username="demo-broker")
        stages = {referral_effective_stage(referral) for referral in main.referrals.all()}
        board = leaderboard(month=date(2026, 11, 1), city=main.city)

    assert stages == set(Stage.values), stages
    assert Broker.objects.count() == 8
    assert {broker.kind for broker in Broker.objects.all()} == {"owner", "professional"}

    # Commissions in every status, a held one with its flag's evidence, a paid one clawed back.
    statuses = set(Commission.objects.filter(broker=main).values_list("status", flat=True))
    assert {"pending", "held", "available", "paid", "clawed_back"} <= statuses, statuses
    held = Commission.objects.filter(broker=main, status=CommissionStatus.HELD)
    assert held.count() == 2
    assert all(commission.referral.flags[0]["rule"] == "device_cluster" for commission in held)
    clawed = Commission.objects.get(broker=main, status=CommissionStatus.CLAWED_BACK)
    assert clawed.statement is not None and clawed.clawback_statement is not None

    # The running task has results and never exceeds its budget; last month's has been closed.
    running = Task.objects.get(title="星澜 上海试驾 20 台")
    assert running.status == TaskStatus.PUBLISHED
    assert Commission.objects.filter(task=running, broker=main).count() == 3
    live = Commission.objects.filter(task=running).exclude(status__in=["clawed_back", "rejected"])
    assert running.committed_fen == live.aggregate(total=Sum("amount_fen"))["total"] <= running.budget_fen
    assert Task.objects.filter(status=TaskStatus.CLOSED).count() == 1
    assert Task.objects.filter(status=TaskStatus.DRAFT).count() == 1

    # September's statement paid, October's issued and awaiting its payout (demo-broker's).
    september = Statement.objects.get(broker=main, month=date(2026, 9, 1))
    october = Statement.objects.get(broker=main, month=date(2026, 10, 1))
    assert september.status == StatementStatus.PAID
    assert Payout.objects.get(statement=september).amount_fen == september.net_fen > 0
    assert october.status == StatementStatus.ISSUED
    assert october.clawbacks.count() == 1
    assert october.net_fen > 0

    # Honours: badges, and demo-broker on Shanghai's board this month.
    assert BrokerBadge.objects.filter(broker=main, code="first-sale").exists()
    assert BrokerBadge.objects.filter(broker=main, code="task-pioneer").exists()
    assert main.pk in {row.broker_id for row in board}

    # Every event the seeding recorded was handled without a failure.
    assert not EventDelivery.objects.exclude(status="done").exists()
