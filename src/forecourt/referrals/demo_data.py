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
from dataclasses import dataclass
from datetime import datetime, timedelta

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


@dataclass(frozen=True)
class _Cast:
    """The demo's brokers: demo-broker, the demo consumer (an owner) if seeded, and the others."""

    main: Broker
    owner: Broker | None
    others: list[Broker]
    consumer: User | None

    @property
    def everyone(self) -> list[Broker]:
        return [self.main, *([self.owner] if self.owner else []), *self.others]


@dataclass(frozen=True)
class _Months:
    """The demo's calendar: this month so far, last month and the one before."""

    today: datetime

    @property
    def this_month(self) -> datetime:
        return month_start(self.today)

    @property
    def last_month(self) -> datetime:
        return month_start(self.this_month - timedelta(days=1))

    @property
    def month_before_last(self) -> datetime:
        return month_start(self.last_month - timedelta(days=1))

    @property
    def next_month(self) -> datetime:
        return month_bounds(month_first(self.today))[1]

    def in_this_month(self, fraction: float) -> datetime:
        return self.this_month + (self.today - self.this_month) * fraction


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
    models = list(
        VehicleModel.objects.filter(is_active=True)
        .order_by("position", "code")
        .values_list("code", flat=True)
    )
    if not models:
        return
    star = "xinglan" if "xinglan" in models else models[0]
    _rules()
    cast = _enrol_brokers(main_user, ops=ops, cities=cities, today=today)
    seeder = Seeder(
        rng=rng,
        today=today,
        ops=ops,
        models=models,
        cities=cities,
        friends=friends_with_leads(
            {broker.user_id for broker in cast.everyone} | {getattr(cast.consumer, "pk", 0)}
        ),
    )
    months = _Months(today)
    _plan_tasks(seeder, cast, months, star=star)
    _plan_main_broker(seeder, cast, months, star=star)
    _plan_refused_and_flagged(seeder, cast)
    if cast.owner is not None:
        # The demo consumer: two successful referrals (the loyalty demo credits their points).
        seeder.journey("owner-1", cast.owner, today - timedelta(days=85))
        seeder.journey("owner-2", cast.owner, today - timedelta(days=30))
    _plan_other_brokers(seeder, cast, months, star=star)
    _plan_statements(seeder, cast, months)
    seeder.run()
    _sweep_today(seeder, cast, months, models=models)


def _enrol_brokers(main_user: User, *, ops: User, cities: dict[str, City], today: datetime) -> _Cast:
    """demo-broker, the demo consumer, then owners whose car the orders demo delivered, then others."""
    shanghai = cities.get("shanghai")
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
    others = [
        enrol(
            user,
            ops=ops,
            kind=kind,
            city=cities.get(city_code),
            when=today - timedelta(days=140 - index * 9),
        )
        for index, (user, (city_code, kind)) in enumerate(zip(candidates, OTHER_BROKERS, strict=False))
    ]
    return _Cast(main=main, owner=owner, others=others, consumer=consumer)


def _in_city(broker: Broker, city: City | None) -> bool:
    return broker.city_id == getattr(city, "pk", -1)


def _plan_tasks(seeder: Seeder, cast: _Cast, months: _Months, *, star: str) -> None:
    """Last month's Hangzhou visits (closed since), this month's Shanghai test drives, a delivery sprint."""
    cities = seeder.cities
    this_month, last_month = months.this_month, months.last_month
    seeder.publish(
        "visits",
        last_month,
        title="悦风 杭州到店 30 组",
        description="上月活动：带朋友到杭州门店看车，每组到店奖励 150 元。",
        goal=TaskGoal.STORE_VISIT,
        amount_fen=150_00,
        budget_fen=4_500_00,
        starts_at=last_month,
        ends_at=this_month,
        city=cities.get("hangzhou"),
    )
    for broker in cast.others:
        if _in_city(broker, cities.get("hangzhou")):
            seeder.accept("visits", broker, last_month + timedelta(hours=9))
    seeder.publish(
        "test_drives",
        this_month,
        title="星澜 上海试驾 20 台",
        description="本月带朋友到上海门店试驾星澜，每完成一次试驾奖励 200 元，名额以预算为准。",
        goal=TaskGoal.TEST_DRIVE,
        amount_fen=200_00,
        budget_fen=4_000_00,
        target_count=20,
        model_code=star,
        starts_at=this_month,
        ends_at=months.next_month,
        city=cities.get("shanghai"),
    )
    seeder.publish(
        "deliveries",
        this_month - timedelta(days=10),
        title="全国交付冲刺",
        description="推荐的朋友提车即奖励 1,000 元（在每单佣金之外）。",
        goal=TaskGoal.DELIVERY,
        amount_fen=1_000_00,
        budget_fen=20_000_00,
        starts_at=this_month - timedelta(days=10),
        ends_at=months.next_month + timedelta(days=10),
    )
    seeder.accept("test_drives", cast.main, months.in_this_month(0.02))
    seeder.accept("deliveries", cast.main, this_month - timedelta(days=9))
    for broker in cast.others:
        if _in_city(broker, cities.get("shanghai")):
            seeder.accept("test_drives", broker, months.in_this_month(0.05))


def _plan_main_broker(seeder: Seeder, cast: _Cast, months: _Months, *, star: str) -> None:
    """demo-broker: every stage, a returned car, a cancelled order, this month's task test drives."""
    main, today, last_month = cast.main, months.today, months.last_month
    start = months.month_before_last
    seeder.journey("main-converted", main, start - timedelta(days=18), model=star)
    seeder.journey("main-returned", main, start - timedelta(days=16))
    seeder.lose("main-returned", last_month + timedelta(days=12, hours=3), "returned")
    seeder.refer("main-last-visit", main, last_month + timedelta(days=2))
    seeder.qualify("main-last-visit", last_month + timedelta(days=6))
    seeder.journey("main-last-sale", main, last_month - timedelta(days=12), model=star)
    # This month: test drives on the running task.
    for index, fraction in enumerate((0.15, 0.45, 0.8)):
        key = f"main-drive-{index}"
        moment = months.in_this_month(fraction)
        seeder.refer(key, main, moment - timedelta(days=3), model=star, local=True)
        seeder.qualify(key, moment, task_goals=(TaskGoal.TEST_DRIVE,))
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


def _plan_refused_and_flagged(seeder: Seeder, cast: _Cast) -> None:
    """The broker's own booking and a friend already a customer refused; one phone's three "friends"
    flagged as a cluster, their CPL held for ops."""
    main, today = cast.main, seeder.today
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
        .exclude(buyer__in=[broker.user_id for broker in cast.everyone])
        .order_by("created_at", "pk")
        .first()
    )
    if customer_order is not None:
        evidence = {
            "order": customer_order.number,
            "status": customer_order.status,
            "ordered_at": customer_order.created_at.isoformat(),
        }
        seeder.refer(
            "main-customer",
            main,
            today - timedelta(days=5),
            person=customer_order.buyer,
            stage=Stage.REJECTED,
            rejection="existing_customer",
            flags=[{"rule": "existing_customer", "evidence": evidence}],
        )
    device, ip = seeder.device(), seeder.ip()
    keys = ["main-cluster-0", "main-cluster-1", "main-cluster-2"]
    cluster_start = today - timedelta(days=4)
    for index, key in enumerate(keys):
        seeder.refer(key, main, cluster_start + timedelta(hours=20 * index), device=device, ip=ip)

    def flag_cluster() -> None:
        ids = [seeder.referrals[key].public_id for key in keys]
        for key, flags in zip(
            keys, cluster_flags(ids, device, cluster_start - timedelta(days=7)), strict=True
        ):
            Referral.objects.filter(pk=seeder.referrals[key].pk).update(flags=[flags])
            seeder.referrals[key].refresh_from_db()

    seeder.at(cluster_start + timedelta(hours=41), flag_cluster)
    seeder.qualify("main-cluster-0", today - timedelta(hours=30))
    seeder.qualify("main-cluster-1", today - timedelta(hours=26))


def _plan_other_brokers(seeder: Seeder, cast: _Cast, months: _Months, *, star: str) -> None:
    """Four to seven friends each, some visiting and buying; Shanghai's busiest tops this month's board."""
    rng, today = seeder.rng, months.today
    for number, broker in enumerate(cast.others):
        in_shanghai = _in_city(broker, seeder.cities.get("shanghai"))
        in_hangzhou = _in_city(broker, seeder.cities.get("hangzhou"))
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
                moment = months.in_this_month(fraction)
                seeder.refer(key, broker, moment - timedelta(days=2), model=star, local=True)
                seeder.qualify(key, moment + timedelta(minutes=10), task_goals=(TaskGoal.TEST_DRIVE,))


def _plan_statements(seeder: Seeder, cast: _Cast, months: _Months) -> None:
    """The month before last issued and paid; last month issued, everybody paid but demo-broker."""
    ops, today = seeder.ops, months.today

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

    last_month = months.last_month
    seeder.at(last_month + timedelta(days=2, hours=10), issue(months.month_before_last))
    seeder.at(last_month + timedelta(days=4, hours=15), pay(months.month_before_last))
    issue_last = min(months.this_month + timedelta(days=2, hours=10), today - timedelta(hours=2))
    seeder.at(issue_last, issue(last_month))
    # Everybody's paid but demo-broker's: ops have one payout left to record.
    seeder.at(
        min(issue_last + timedelta(hours=1), today - timedelta(hours=1)), pay(last_month, skip=cast.main)
    )


def _sweep_today(seeder: Seeder, cast: _Cast, months: _Months, *, models: list[str]) -> None:
    """Today: what the sweepers write down, the honours, and a draft task for next month."""
    with clock.frozen_at(months.today):
        commissions_mature()
        referrals_convert_due()
        tasks_close_ended()
        seeder.settle()
        for broker in cast.everyone:
            badges_award(broker=broker)
        leaderboards_close_due()
        seeder.settle()
        # A draft for next month, for ops to publish.
        next_month = months.next_month
        task_create(
            actor=seeder.ops,
            title="悦风 北京周末试驾季",
            description="下月周末带朋友试驾悦风，每次试驾奖励 180 元。",
            goal=TaskGoal.TEST_DRIVE,
            amount_fen=180_00,
            budget_fen=9_000_00,
            model_code="yuefeng" if "yuefeng" in models else "",
            city=seeder.cities.get("beijing"),
            starts_at=next_month,
            ends_at=month_bounds(month_first(next_month))[1],
            publish=False,
        )
