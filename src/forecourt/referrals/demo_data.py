"""Demo data for the broker programme: brokers with referrals in every stage, commissions in every status,
OEM tasks (one running with results), monthly statements (one paid, one awaiting its payout), honours.

- demo-broker (车主经纪人 林浩, Shanghai) is the main broker: friends referred, visiting, ordering,
  delivered within the return window, sales confirmed, a cancelled order, a returned car whose paid
  commission was clawed back (netted by last month's statement), a self-referral and an existing customer
  refused, and a cluster of three referrals from one phone flagged with its evidence (their CPL held for
  ops). He took on the running test-drive task and the delivery sprint, and ranks in Shanghai.
- The demo consumer (13800138000, an owner) is a broker too, with the two successful referrals the
  loyalty demo credits points for.
- Six more brokers in Shanghai, Hangzhou, Beijing and Suzhou (one a professional), so leaderboards and
  tasks have company.

The referrals themselves are written as a backfill of history (a referral per friend's real demo lead
where there is one); every later step goes through the services at its own moment in the past (the clock
is set back): qualifying, ordering, delivery, returns, commission decisions, task results, statements and
payouts, and the events they record are delivered at once, the way the worker would, so loyalty and the
badges react in order.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from forecourt.accounts.models import Role, User
from forecourt.catalog.models import VehicleModel
from forecourt.core import clock
from forecourt.core.demo_people import DEMO_CONSUMER_PHONE
from forecourt.core.phones import normalise_mainland_mobile, phone_hash
from forecourt.dealers.models import City
from forecourt.orders.models import Order, OrderStatus
from forecourt.referrals.demo_history import Seeder, cluster_flags, enrol, friends_with_leads, month_start
from forecourt.referrals.models import (
    Broker,
    BrokerKind,
    CommissionKind,
    CommissionRule,
    Referral,
    Stage,
    Statement,
    StatementStatus,
    Task,
    TaskGoal,
)
from forecourt.referrals.periods import month_bounds, month_first
from forecourt.referrals.services import (
    badges_award,
    commissions_mature,
    leaderboards_close_due,
    payout_record,
    referrals_convert_due,
    statements_issue_for_month,
    task_accept,
    task_create,
    tasks_close_ended,
)

MAIN_BROKER = "demo-broker"
# (city, display name, kind) of the other brokers; consumers of the accounts demo become them.
OTHER_BROKERS = [
    ("shanghai", BrokerKind.PROFESSIONAL),
    ("shanghai", BrokerKind.OWNER),
    ("hangzhou", BrokerKind.OWNER),
    ("hangzhou", BrokerKind.OWNER),
    ("beijing", BrokerKind.OWNER),
    ("suzhou", BrokerKind.OWNER),
]
RULES = [
    (CommissionKind.CPL, "", "", 200_00),
    (CommissionKind.CPS, "", "", 3_000_00),
    (CommissionKind.CPS, "xinglan", "", 5_000_00),
    (CommissionKind.CPL, "", "wechat-moments", 300_00),
]


def _rules() -> None:
    for kind, model_code, campaign, amount in RULES:
        CommissionRule.objects.get_or_create(
            kind=kind,
            model_code=model_code,
            campaign=campaign,
            is_active=True,
            defaults={"amount_fen": amount},
        )
    # Last year's CPS, replaced: kept for the record.
    CommissionRule.objects.create(
        kind=CommissionKind.CPS, model_code="", campaign="", amount_fen=2_000_00, is_active=False
    )


def seed(*, rng: random.Random) -> None:
    """Brokers, referrals in every stage, tasks, statements and payouts, honours (see the module doc)."""
    ops = User.objects.filter(username="demo-ops").first()
    main_user = User.objects.filter(username=MAIN_BROKER).first()
    if ops is None or main_user is None:
        return
    today = clock.now()
    cities = {
        city.code: city
        for city in City.objects.filter(code__in=["shanghai", "hangzhou", "beijing", "suzhou"])
    }
    shanghai = cities.get("shanghai")
    models = list(
        VehicleModel.objects.filter(is_active=True)
        .order_by("position", "code")
        .values_list("code", flat=True)
    )
    if not models:
        return
    star = "xinglan" if "xinglan" in models else models[0]
    _rules()

    # --- brokers ------------------------------------------------------------------------------------------
    main = enrol(main_user, ops=ops, kind=BrokerKind.OWNER, city=shanghai, when=today - timedelta(days=150))
    consumer = User.objects.filter(
        phone_hash=phone_hash(normalise_mainland_mobile(DEMO_CONSUMER_PHONE))
    ).first()
    owner = None
    if consumer is not None:
        owner = enrol(
            consumer, ops=ops, kind=BrokerKind.OWNER, city=shanghai, when=today - timedelta(days=100)
        )
    consumer_pk = consumer.pk if consumer is not None else 0
    # Owners first: consumers whose car the orders demo delivered; then other consumers.
    owners = Order.objects.filter(status=OrderStatus.DELIVERED).values("buyer_id")
    candidates = list(
        User.objects.filter(role=Role.CONSUMER, broker__isnull=True, pk__in=owners)
        .exclude(pk=consumer_pk)
        .order_by("pk")[: len(OTHER_BROKERS)]
    )
    candidates += list(
        User.objects.filter(role=Role.CONSUMER, broker__isnull=True)
        .exclude(pk__in=[user.pk for user in candidates])
        .exclude(pk=consumer_pk)
        .exclude(phone_encrypted="")
        .order_by("pk")[: len(OTHER_BROKERS) - len(candidates)]
    )
    others: list[Broker] = []
    for index, (user, (city_code, kind)) in enumerate(zip(candidates, OTHER_BROKERS, strict=False)):
        others.append(
            enrol(
                user,
                ops=ops,
                kind=kind,
                city=cities.get(city_code),
                when=today - timedelta(days=140 - index * 9),
            )
        )
    brokers = [main, *([owner] if owner else []), *others]

    seeder = Seeder(
        rng=rng,
        today=today,
        ops=ops,
        models=models,
        cities=cities,
        friends=friends_with_leads({broker.user_id for broker in brokers} | {getattr(consumer, "pk", 0)}),
    )
    this_month = month_start(today)
    last_month = month_start(this_month - timedelta(days=1))
    month_before_last = month_start(last_month - timedelta(days=1))
    elapsed = today - this_month

    def in_this_month(fraction: float) -> datetime:
        return this_month + elapsed * fraction

    # --- tasks ------------------------------------------------------------------------------------------
    tasks: dict[str, Task] = {}

    def publish(key: str, **fields: Any) -> Callable[[], None]:
        def action() -> None:
            tasks[key] = task_create(actor=ops, **fields)

        return action

    def accept(key: str, broker: Broker) -> Callable[[], None]:
        def action() -> None:
            task_accept(task=tasks[key], broker=broker)

        return action

    hangzhou_brokers = [
        broker for broker in others if broker.city_id == getattr(cities.get("hangzhou"), "pk", -1)
    ]
    shanghai_brokers = [broker for broker in others if broker.city_id == getattr(shanghai, "pk", -1)]
    seeder.at(
        last_month,
        publish(
            "visits",
            title="悦风 杭州到店 30 组",
            description="上月活动：带朋友到杭州门店看车，每组到店奖励 150 元。",
            goal=TaskGoal.STORE_VISIT,
            amount_fen=150_00,
            budget_fen=4_500_00,
            starts_at=last_month,
            ends_at=this_month,
            city=cities.get("hangzhou"),
        ),
    )
    for broker in hangzhou_brokers:
        seeder.at(last_month + timedelta(hours=9), accept("visits", broker))
    seeder.at(
        this_month,
        publish(
            "test_drives",
            title="星澜 上海试驾 20 台",
            description="本月带朋友到上海门店试驾星澜，每完成一次试驾奖励 200 元，名额以预算为准。",
            goal=TaskGoal.TEST_DRIVE,
            amount_fen=200_00,
            budget_fen=4_000_00,
            target_count=20,
            model_code=star,
            starts_at=this_month,
            ends_at=month_bounds(month_first(today))[1],
            city=shanghai,
        ),
    )
    seeder.at(
        this_month - timedelta(days=10),
        publish(
            "deliveries",
            title="全国交付冲刺",
            description="推荐的朋友提车即奖励 1,000 元（在每单佣金之外）。",
            goal=TaskGoal.DELIVERY,
            amount_fen=1_000_00,
            budget_fen=20_000_00,
            starts_at=this_month - timedelta(days=10),
            ends_at=month_bounds(month_first(today))[1] + timedelta(days=10),
        ),
    )
    seeder.at(in_this_month(0.02), accept("test_drives", main))
    seeder.at(this_month - timedelta(days=9), accept("deliveries", main))
    for broker in shanghai_brokers:
        seeder.at(in_this_month(0.05), accept("test_drives", broker))

    # --- demo-broker: every stage -------------------------------------------------------------------------
    start = month_before_last
    seeder.journey("main-converted", main, start - timedelta(days=18), model=star)
    seeder.journey("main-returned", main, start - timedelta(days=16))
    seeder.lose("main-returned", last_month + timedelta(days=12, hours=3), "returned")
    seeder.refer("main-last-visit", main, last_month + timedelta(days=2))
    seeder.qualify("main-last-visit", last_month + timedelta(days=6))
    seeder.journey("main-last-sale", main, last_month - timedelta(days=12), model=star)
    # This month: test drives on the running task.
    for index, fraction in enumerate((0.15, 0.45, 0.8)):
        key = f"main-drive-{index}"
        seeder.refer(key, main, in_this_month(fraction) - timedelta(days=3), model=star, local=True)
        seeder.qualify(key, in_this_month(fraction), task_goals=(TaskGoal.TEST_DRIVE,))
    # Around now: each stage at least once.
    seeder.refer("main-referred-1", main, today - timedelta(days=1))
    seeder.refer("main-referred-2", main, today - timedelta(hours=3), model=star)
    seeder.refer("main-visiting", main, today - timedelta(days=6))
    seeder.qualify("main-visiting", today - timedelta(days=1))
    seeder.refer("main-ordered", main, today - timedelta(days=20))
    seeder.qualify("main-ordered", today - timedelta(days=15))
    seeder.order("main-ordered", today - timedelta(days=7))
    seeder.journey("main-delivered", main, today - timedelta(days=22), model=star)
    seeder.refer("main-cancelled", main, today - timedelta(days=35))
    seeder.qualify("main-cancelled", today - timedelta(days=28))
    seeder.order("main-cancelled", today - timedelta(days=20))
    seeder.lose("main-cancelled", today - timedelta(days=12), "cancelled")

    # Refused by the fraud rules: the broker's own booking, and a friend who was already a customer.
    seeder.refer(
        "main-self",
        main,
        today - timedelta(days=9),
        person=main.user,
        stage=Stage.REJECTED,
        rejection="self_referral",
        flags=[{"rule": "self_referral", "evidence": {"match": "person"}}],
    )
    customer_order = (
        Order.objects.exclude(status=OrderStatus.CANCELLED)
        .exclude(buyer__in=[broker.user_id for broker in brokers])
        .order_by("created_at", "pk")
        .first()
    )
    if customer_order is not None:
        seeder.refer(
            "main-customer",
            main,
            today - timedelta(days=5),
            person=customer_order.buyer,
            stage=Stage.REJECTED,
            rejection="existing_customer",
            flags=[
                {
                    "rule": "existing_customer",
                    "evidence": {
                        "order": customer_order.number,
                        "status": customer_order.status,
                        "ordered_at": customer_order.created_at.isoformat(),
                    },
                }
            ],
        )

    # One phone, three "friends" in two days: flagged as a cluster; their CPL is held for ops.
    cluster_device, cluster_ip = seeder.device(), seeder.ip()
    cluster_keys = ["main-cluster-0", "main-cluster-1", "main-cluster-2"]
    cluster_start = today - timedelta(days=4)
    for index, key in enumerate(cluster_keys):
        seeder.refer(
            key, main, cluster_start + timedelta(hours=20 * index), device=cluster_device, ip=cluster_ip
        )

    def flag_cluster() -> None:
        ids = [seeder.referrals[key].public_id for key in cluster_keys]
        for key, flags in zip(
            cluster_keys, cluster_flags(ids, cluster_device, cluster_start - timedelta(days=7)), strict=True
        ):
            Referral.objects.filter(pk=seeder.referrals[key].pk).update(flags=[flags])
            seeder.referrals[key].refresh_from_db()

    seeder.at(cluster_start + timedelta(hours=41), flag_cluster)
    seeder.qualify("main-cluster-0", today - timedelta(hours=30))
    seeder.qualify("main-cluster-1", today - timedelta(hours=26))

    # --- the demo consumer: two successful referrals (the loyalty demo credits their points) -------------
    if owner is not None:
        seeder.journey("owner-1", owner, today - timedelta(days=85))
        seeder.journey("owner-2", owner, today - timedelta(days=30))

    # --- the other brokers ----------------------------------------------------------------------------
    for number, broker in enumerate(others):
        in_shanghai = broker.city_id == getattr(shanghai, "pk", -1)
        in_hangzhou = broker.city_id == getattr(cities.get("hangzhou"), "pk", -1)
        for index in range(rng.randint(4, 7)):
            key = f"other-{number}-{index}"
            begun = today - timedelta(days=rng.randint(2, 80), hours=rng.randint(0, 23))
            model = star if in_shanghai and rng.random() < 0.6 else None
            seeder.refer(key, broker, begun, model=model, local=model is not None or in_hangzhou)
            roll = rng.random()
            if roll < 0.25:
                continue
            visit = begun + timedelta(days=rng.randint(1, 4), hours=rng.randint(1, 8))
            goals = (TaskGoal.TEST_DRIVE,) if rng.random() < 0.7 else ()
            seeder.qualify(key, visit, task_goals=goals)
            if roll < 0.6 or (in_hangzhou and roll < 0.75):
                continue
            seeder.order(key, visit + timedelta(days=rng.randint(2, 6)))
            seeder.deliver(key, visit + timedelta(days=rng.randint(12, 20)))
        # Shanghai's busiest broker this month: above demo-broker on the board.
        if number == 0 and in_shanghai:
            for index, fraction in enumerate((0.1, 0.3, 0.5, 0.7)):
                key = f"other-top-{index}"
                seeder.refer(key, broker, in_this_month(fraction) - timedelta(days=2), model=star, local=True)
                seeder.qualify(
                    key, in_this_month(fraction) + timedelta(minutes=10), task_goals=(TaskGoal.TEST_DRIVE,)
                )

    # --- statements and payouts ---------------------------------------------------------------------------
    def issue(month: datetime) -> Callable[[], None]:
        def action() -> None:
            statements_issue_for_month(month=month_first(month), actor=ops)

        return action

    def pay(month: datetime, *, skip: Broker | None = None) -> Callable[[], None]:
        def action() -> None:
            for statement in Statement.objects.filter(
                month=month_first(month), status=StatementStatus.ISSUED
            ).order_by("pk"):
                if statement.net_fen > 0 and statement.broker_id != getattr(skip, "pk", None):
                    payout_record(
                        statement=statement,
                        reference=f"ICBC{clock.now():%Y%m%d}{statement.pk:06d}",
                        actor=ops,
                    )

        return action

    seeder.at(last_month + timedelta(days=2, hours=10), issue(month_before_last))
    seeder.at(last_month + timedelta(days=4, hours=15), pay(month_before_last))
    issue_last = min(this_month + timedelta(days=2, hours=10), today - timedelta(hours=2))
    seeder.at(issue_last, issue(last_month))
    # Everybody's paid but demo-broker's: ops have one payout left to record.
    seeder.at(min(issue_last + timedelta(hours=1), today - timedelta(hours=1)), pay(last_month, skip=main))

    seeder.run()

    # --- today: what the sweepers write down, and the honours --------------------------------------------
    with clock.frozen_at(today):
        commissions_mature()
        referrals_convert_due()
        tasks_close_ended()
        seeder.settle()
        for broker in brokers:
            badges_award(broker=broker)
        leaderboards_close_due()
        seeder.settle()
        # A draft for next month, for ops to publish.
        next_month = month_bounds(month_first(today))[1]
        task_create(
            actor=ops,
            title="悦风 北京周末试驾季",
            description="下月周末带朋友试驾悦风，每次试驾奖励 180 元。",
            goal=TaskGoal.TEST_DRIVE,
            amount_fen=180_00,
            budget_fen=9_000_00,
            model_code="yuefeng" if "yuefeng" in models else "",
            city=cities.get("beijing"),
            starts_at=next_month,
            ends_at=month_bounds(month_first(next_month))[1],
            publish=False,
        )
