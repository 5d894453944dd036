"""Demo data for orders: cars in stock, orders in every state, and one limited edition on sale.

Runs after payments (and everything below it). Every order is made the way a real one is: placed from
a saved configuration through `order_place`, paid through the sandbox gateway's signed notification
(intention money and deposit) or recorded in store (the final payment), locked, allocated, booked and
delivered by the demo dealer's staff, cancelled with its refund. So payments' ledger and notifications
agree with the orders and `forecourt reconcile` finds nothing.

Each step happens at its own moment in the past (the clock is set back), so the task lists show real
times. What subscribers do after a commit (crediting a payment to its order) is run at once here, the
way the worker would, so the next step finds the order where a buyer would.

- The demo consumer (13800138000) has an order with its deposit paid and still inside its change
  window, a delivered car, and an order cancelled with its money refunded.
- The demo dealer (where demo-sales and demo-manager work) has an order in every state, including one
  delivered late (compensation accrued per day), one locked with a matching car in its stock to
  allocate, one allocated waiting for the final payment, one paid waiting for its delivery booking and
  one ready for delivery.
- Other dealers and the maker hold cars in stock; a few orders go to other dealers.
- The launch edition of 星澜 is on sale with units per city; some are sold, one city is sold out.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.test.utils import override_settings

from forecourt.accounts.models import Role, User
from forecourt.accounts.services import consumer_get_or_create_by_phone
from forecourt.catalog.configurator import default_choices
from forecourt.catalog.models import Trim
from forecourt.catalog.selectors import configuration_quote, trim_snapshot_for
from forecourt.catalog.services import configuration_save
from forecourt.core import clock
from forecourt.core.demo_people import DEMO_CONSUMER_PHONE, demo_mobile, demo_name
from forecourt.core.errors import DomainError
from forecourt.core.events import events_deliver_now
from forecourt.core.logging import log_context
from forecourt.dealers.models import City, Dealer
from forecourt.orders.models import EditionStock, LimitedEdition, Order, OrderStatus
from forecourt.orders.services import (
    order_allocate_vehicle,
    order_cancel,
    order_delivery_book,
    order_delivery_confirm,
    order_final_payment_confirm,
    order_late_days_accrue,
    order_lock,
    order_pay_start,
    order_place,
    vehicle_add,
)
from forecourt.payments import selectors as payment_selectors
from forecourt.payments.services import payment_sandbox_choose

logger = logging.getLogger(__name__)

# The sandbox gateway sends its notification from a task: run tasks at once while seeding, so a payment
# is credited before the next step (the worker is not running yet).
IMMEDIATE_TASKS = {
    "default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}
}
VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
EDITION_CODE = "xinglan-launch"
EDITION_TRIM = "xl-launch"
# City → (units, units sold in the demo). Suzhou's two are sold: a city sold out beside others on sale.
EDITION_STOCK = {"shanghai": (40, 4), "beijing": (30, 3), "hangzhou": (20, 2), "suzhou": (2, 2)}
# Cars in stock besides the ones allocated in the demo.
STOCK_AT_DEMO_DEALER = 6
STOCK_AT_MAKER = 8
OTHER_DEALERS_WITH_STOCK = 4
STOCK_PER_OTHER_DEALER = 3


@dataclass
class _Seeder:
    rng: random.Random
    today: datetime
    # Events whose subscribers have run (or have none), so each is delivered once.
    delivered: set[Any] = field(default_factory=set)
    vins: set[str] = field(default_factory=set)

    @contextmanager
    def at(self, moment: datetime) -> Iterator[None]:
        with clock.frozen_at(moment):
            yield
            self.settle()

    def settle(self) -> None:
        """Run the subscribers of the events recorded at this moment, as the worker would after commit."""
        events_deliver_now(delivered=self.delivered)

    def vin(self) -> str:
        while True:
            # A made-up world manufacturer code "LFC", model year T (2026), plant S, then a serial.
            vin = (
                "LFC"
                + "".join(self.rng.choice(VIN_ALPHABET) for _ in range(6))
                + "TS"
                + f"{self.rng.randrange(10**6):06d}"
            )
            if vin not in self.vins:
                self.vins.add(vin)
                return vin

    # --- the steps of an order ---------------------------------------------------------------------

    def pay_online(self, order: Order, stage: str) -> Order:
        order_pay_start(
            order=order,
            stage=stage,
            provider="sandbox",
            return_url=f"/orders/{order.number}/",
            actor=order.buyer,
        )
        intent = [
            intent
            for intent in payment_selectors.payment_intents_for(
                reference=order.number, purpose=f"order.{stage}"
            )
            if intent.status == "created"
        ][-1]
        with override_settings(TASKS=IMMEDIATE_TASKS):
            payment_sandbox_choose(intent=intent, choice="pay")
        self.settle()
        return Order.objects.get(pk=order.pk)


def _valid(trim: Trim, option_codes: list[str]) -> bool:
    return configuration_quote(trim_code=trim.code, option_codes=option_codes).valid


def _choices(trim: Trim, rng: random.Random) -> list[str]:
    """A valid configuration of the trim: its defaults, another paint and an option or two if they fit."""
    snapshot = trim_snapshot_for(trim.code)
    chosen = default_choices(snapshot)
    offered = [entry for entry in snapshot.options if entry.is_offered and entry.availability != "standard"]
    paints = [entry.code for entry in offered if entry.kind == "paint"]
    extras = [entry.code for entry in offered if entry.kind in ("option", "package")]
    if paints:
        candidate = [code for code in chosen if snapshot.by_code[code].kind != "paint"] + [rng.choice(paints)]
        if _valid(trim, candidate):
            chosen = candidate
    for code in rng.sample(extras, min(2, len(extras))):
        if _valid(trim, [*chosen, code]):
            chosen = [*chosen, code]
    return sorted(chosen)


def _trims() -> list[Trim]:
    return list(
        Trim.objects.filter(is_active=True, model__is_active=True, is_limited_edition=False)
        .select_related("model")
        .order_by("model__position", "position", "code")
    )


def _consumers(rng: random.Random, count: int) -> list[User]:
    people = list(
        User.objects.filter(role=Role.CONSUMER).exclude(phone_encrypted="").order_by("pk")[1 : count + 1]
    )
    seen: set[str] = set()
    while len(people) < count:
        phone = demo_mobile(rng)
        if phone not in seen:
            seen.add(phone)
            people.append(consumer_get_or_create_by_phone(phone=phone, display_name=demo_name(rng)))
    return people


def _staff(dealer: Dealer) -> User:
    preferred = {"demo-sales": 0, "demo-manager": 1}
    staff = sorted(
        dealer.staff.filter(role__in=[Role.SALES_ADVISOR, Role.DEALER_MANAGER], is_active=True),
        key=lambda user: (preferred.get(user.username, 2), user.pk),
    )
    if not staff:
        raise LookupError(f"dealer {dealer.public_id} has no sales staff")
    return staff[0]


# The stages an order passes, in order; an order's plan says how far it goes and when.
STEPS = ("intention", "deposit", "lock", "allocate", "final", "book", "deliver")


@dataclass(frozen=True)
class Plan:
    buyer: User
    dealer: Dealer
    # Days ago the order was placed, and how far it goes ("placed" = nowhere).
    placed_days_ago: float
    until: str
    cancel: bool = False
    # The delivery day, in days from today (negative: in the past).
    delivery_in_days: float = 3
    # Days between the allocation and the delivery (more than the promise: a late delivery).
    delivered_after_days: float = 10


def _daytime(seeder: _Seeder, moment: datetime) -> datetime:
    """The moment, moved into opening hours (09:00–21:00 in Shanghai) when it falls at night."""
    local = moment.astimezone(clock.SHANGHAI)
    if 9 <= local.hour < 21:
        return moment
    day = local.date() + timedelta(days=1) if local.hour >= 21 else local.date()
    morning = datetime(day.year, day.month, day.day, 9, seeder.rng.randint(0, 59), tzinfo=clock.SHANGHAI)
    return morning if morning < seeder.today - timedelta(minutes=5) else moment


def _place(seeder: _Seeder, plan: Plan, trims: list[Trim]) -> Order:
    trim = seeder.rng.choice(trims)
    start = seeder.today - timedelta(days=plan.placed_days_ago)
    if plan.placed_days_ago >= 1:
        local = start.astimezone(clock.SHANGHAI)
        start = local.replace(hour=seeder.rng.randint(9, 20), minute=seeder.rng.randint(0, 59))
    with seeder.at(start - timedelta(minutes=seeder.rng.randint(5, 90))):
        configuration = configuration_save(
            trim_code=trim.code, option_codes=_choices(trim, seeder.rng), owner=plan.buyer
        )
    with seeder.at(start):
        lock_days = (
            max(2, min(30, int(plan.placed_days_ago) + 5))
            if plan.until in ("placed", "intention", "deposit")
            else 5
        )
        return order_place(
            buyer=plan.buyer,
            configuration=configuration,
            dealer=plan.dealer,
            lock_deadline=clock.local_now().date() + timedelta(days=lock_days),
        )


def _run(seeder: _Seeder, plan: Plan, trims: list[Trim], *, car_at_maker: bool = False) -> Order:
    """Take one order as far as its plan says, each step at its own moment."""
    order = _place(seeder, plan, trims)
    start = order.created_at
    staff = _staff(plan.dealer)
    steps = STEPS[: STEPS.index(plan.until) + 1] if plan.until in STEPS else ()
    moment = start
    allocated_at = start

    def later(hours: float) -> datetime:
        return min(_daytime(seeder, moment + timedelta(hours=hours)), seeder.today - timedelta(minutes=5))

    for step in steps:
        if step == "intention":
            moment = later(0.2)
            with seeder.at(moment):
                order = seeder.pay_online(order, "intention")
        elif step == "deposit":
            moment = later(seeder.rng.uniform(4, 30))
            with seeder.at(moment):
                order = seeder.pay_online(order, "deposit")
        elif step == "lock":
            moment = later(seeder.rng.uniform(20, 60))
            with seeder.at(moment):
                order = order_lock(order=order, actor=order.buyer)
        elif step == "allocate":
            moment = later(seeder.rng.uniform(24, 72))
            allocated_at = moment
            with seeder.at(moment):
                car = vehicle_add(
                    vin=seeder.vin(),
                    trim=order.trim,
                    option_codes=list(order.option_codes),
                    dealer=None if car_at_maker else plan.dealer,
                )
                order = order_allocate_vehicle(order=order, vehicle=car, actor=staff)
        elif step == "final":
            moment = later(seeder.rng.uniform(48, 120))
            with seeder.at(moment):
                order = order_final_payment_confirm(
                    order=order,
                    actor=staff,
                    receipt_number=f"POS{moment:%Y%m%d}{seeder.rng.randrange(1000, 9999)}",
                )
        elif step == "book":
            moment = later(seeder.rng.uniform(2, 24))
            delivery_at = (
                allocated_at + timedelta(days=plan.delivered_after_days)
                if "deliver" in steps
                else seeder.today + timedelta(days=plan.delivery_in_days)
            )
            delivery_at = delivery_at.astimezone(clock.SHANGHAI).replace(
                hour=10, minute=0, second=0, microsecond=0
            )
            with seeder.at(moment):
                order = order_delivery_book(
                    order=order, delivery_at=max(delivery_at, clock.now() + timedelta(hours=2)), actor=staff
                )
        elif step == "deliver":
            assert order.delivery_at is not None
            moment = order.delivery_at + timedelta(minutes=seeder.rng.randint(10, 90))
            with seeder.at(moment):
                order_late_days_accrue(order=order)
                order = order_delivery_confirm(order=order, actor=staff)
    if plan.cancel:
        moment = later(seeder.rng.uniform(6, 48))
        with seeder.at(moment):
            order = order_cancel(order=order, actor=order.buyer, note="家里决定换一款车")
    return order


def _stock(seeder: _Seeder, demo_dealer: Dealer, trims: list[Trim], locked: list[Order]) -> None:
    """Cars in stock: at the demo dealer (one matching each locked order), at the maker, at a few dealers."""
    with seeder.at(seeder.today - timedelta(days=20)):
        for order in locked:
            vehicle_add(
                vin=seeder.vin(), trim=order.trim, option_codes=list(order.option_codes), dealer=demo_dealer
            )
            vehicle_add(vin=seeder.vin(), trim=order.trim, option_codes=list(order.option_codes), dealer=None)
        others = list(
            Dealer.objects.filter(is_active=True, offers_delivery=True)
            .exclude(pk=demo_dealer.pk)
            .order_by("pk")
        )[:OTHER_DEALERS_WITH_STOCK]
        places: list[Dealer | None] = [demo_dealer] * STOCK_AT_DEMO_DEALER + [None] * STOCK_AT_MAKER
        for dealer in others:
            places += [dealer] * STOCK_PER_OTHER_DEALER
        for place in places:
            trim = seeder.rng.choice(trims)
            vehicle_add(vin=seeder.vin(), trim=trim, option_codes=_choices(trim, seeder.rng), dealer=place)


def _edition(seeder: _Seeder, buyers: list[User]) -> LimitedEdition | None:
    trim = Trim.objects.filter(code=EDITION_TRIM).first()
    if trim is None:
        return None
    snapshot = trim_snapshot_for(trim.code)
    options = sorted(default_choices(snapshot))
    if not configuration_quote(trim_code=trim.code, option_codes=options).valid:
        return None
    edition = LimitedEdition.objects.create(
        code=EDITION_CODE,
        name="星澜 首发限量版",
        name_en="Xinglan Launch Edition",
        description="首批限量车型：四驱高性能，专属内饰与车身徽标，每台附带编号铭牌。",
        description_en=(
            "The first cars off the line: performance all-wheel drive, a signature interior "
            "and a numbered plaque."
        ),
        trim=trim,
        option_codes=options,
        hold_minutes=15,
        sale_starts_at=seeder.today - timedelta(days=2),
        sale_ends_at=seeder.today + timedelta(days=12),
    )
    remaining = iter(buyers)
    for city_code, (units, sold) in EDITION_STOCK.items():
        city = City.objects.filter(code=city_code).first()
        if (
            city is None
            or not Dealer.objects.filter(city=city, is_active=True, offers_delivery=True).exists()
        ):
            continue
        EditionStock.objects.create(edition=edition, city=city, units_total=units)
        for index in range(sold):
            buyer = next(remaining, None)
            if buyer is None:
                break
            moment = edition.sale_starts_at + timedelta(minutes=3 + 7 * index + seeder.rng.randint(0, 5))
            with seeder.at(moment):
                order = order_place(buyer=buyer, edition=edition, city=city)
                order = seeder.pay_online(order, "intention")
            if index % 2 == 0:
                with seeder.at(moment + timedelta(hours=seeder.rng.uniform(2, 20))):
                    seeder.pay_online(order, "deposit")
    return edition


def seed(*, rng: random.Random) -> None:
    """Cars in stock, orders in every state at the demo dealer, and a limited edition on sale."""
    demo_dealer = Dealer.objects.filter(offers_delivery=True, is_active=True).order_by("id").first()
    first = Dealer.objects.order_by("id").first()
    if first is not None and first.offers_delivery and first.is_active:
        demo_dealer = first
    trims = _trims()
    if demo_dealer is None or not trims:
        return
    seeder = _Seeder(rng=rng, today=clock.now())
    consumer = consumer_get_or_create_by_phone(phone=DEMO_CONSUMER_PHONE, display_name="张伟")
    people = _consumers(rng, 34)
    others = list(
        Dealer.objects.filter(is_active=True, offers_delivery=True)
        .exclude(pk=demo_dealer.pk)
        .order_by("pk")[:6]
    )
    d = demo_dealer
    plans: list[tuple[Plan, bool]] = [
        # The demo consumer: a delivered car, an order to follow (deposit paid, changeable), a cancelled one.
        (Plan(consumer, d, 55, "deliver", delivered_after_days=12), False),
        (Plan(consumer, d, 2, "deposit"), False),
        (Plan(consumer, d, 9, "deposit", cancel=True), False),
        # The demo dealer's workspace: one of every state.
        (Plan(people[0], d, 0.1, "placed"), False),
        (Plan(people[1], d, 1, "intention"), False),
        (Plan(people[2], d, 3, "deposit"), False),
        (Plan(people[3], d, 8, "lock"), False),
        (Plan(people[4], d, 6, "lock"), False),
        (Plan(people[5], d, 15, "allocate"), False),
        (Plan(people[6], d, 12, "final"), True),
        (Plan(people[7], d, 13, "book", delivery_in_days=2), False),
        (Plan(people[8], d, 40, "deliver", delivered_after_days=9), False),
        # Delivered late: promised 14 days after the allocation, handed over after 20.
        (Plan(people[9], d, 48, "deliver", delivered_after_days=20), True),
        (Plan(people[10], d, 30, "allocate", cancel=True), False),
        (Plan(people[11], d, 4, "intention", cancel=True), False),
    ]
    for index, dealer in enumerate(others):
        until = ("placed", "intention", "deposit", "lock", "allocate", "final")[index % 6]
        plans.append((Plan(people[12 + index], dealer, 4 + 2 * index, until), index % 2 == 1))
    orders: list[Order] = []
    for plan, car_at_maker in plans:
        try:
            orders.append(_run(seeder, plan, trims, car_at_maker=car_at_maker))
        except DomainError as error:
            # A plan the catalogue cannot satisfy at its moment stops where it got to; say so, go on.
            logger.warning("demo order plan stopped", extra=log_context(code=error.code, until=plan.until))
            continue
    locked = [order for order in orders if order.dealer_id == d.pk and order.status == OrderStatus.LOCKED]
    _stock(seeder, d, trims, locked)
    _edition(seeder, people[20:])
    _saved_for_change(seeder, consumer, orders)


def _saved_for_change(seeder: _Seeder, consumer: User, orders: list[Order]) -> None:
    """The demo consumer has saved one more configuration of their open order's model, to try a change."""
    open_order = next(
        (order for order in orders if order.buyer_id == consumer.pk and order.can_change_configuration()),
        None,
    )
    if open_order is None:
        return
    with seeder.at(seeder.today - timedelta(hours=20)):
        choices = _choices(open_order.trim, seeder.rng)
        if sorted(choices) != sorted(open_order.option_codes):
            configuration_save(trim_code=open_order.trim.code, option_codes=choices, owner=consumer)


__all__ = ["seed"]
