"""The cast for orders tests: the shared test catalogue (极光 Aurora), a Shanghai dealer and a Hangzhou
dealer with their staff, two buyers, a saved configuration, cars in stock, a limited edition, and
helpers that pay through the real sandbox path (a signed notification into payments)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from django.core.cache import cache
from django.test import TestCase
from django.utils import translation

from forecourt.accounts.models import Role, User
from forecourt.accounts.tests.factories import UserFactory
from forecourt.catalog.models import SavedConfiguration
from forecourt.catalog.services import configuration_save
from forecourt.catalog.snapshots import catalog_cache_clear
from forecourt.catalog.tests.factories import Catalogue, build_catalogue
from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.core.models import Event
from forecourt.dealers.models import City, Dealer
from forecourt.dealers.tests.factories import DealerFactory, hangzhou, shanghai
from forecourt.orders.models import EditionStock, LimitedEdition, Order, Vehicle
from forecourt.orders.selectors import edition_sold_out_forget
from forecourt.orders.services import order_pay_start, order_place, vehicle_add
from forecourt.payments.models import PaymentIntent
from forecourt.payments.providers.sandbox import sandbox_notification_build
from forecourt.payments.selectors import payment_intents_for
from forecourt.payments.services import payment_notification_receive

# Monday 23 November 2026, 10:00 in Shanghai.
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
BASE = ["white", "black-int", "wheels-18"]
# aurora-std (¥229,900) with a heat pump (¥3,000).
STD_CHOICES = [*BASE, "heat-pump"]
STD_TOTAL = 232_900_00
INTENTION = 2_000_00
DEPOSIT = 20_000_00
RETURN_URL = "/orders/return/"


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    cache.clear()
    catalog_cache_clear()
    edition_sold_out_forget()
    yield
    cache.clear()
    catalog_cache_clear()
    edition_sold_out_forget()


@pytest.fixture(autouse=True)
def _english_messages() -> Iterator[None]:
    # Services speak the active language (Chinese by default); tests read the English source strings.
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _order_amounts(settings) -> None:
    settings.ORDERS_INTENTION_FEN = INTENTION
    settings.ORDERS_DEPOSIT_FEN = DEPOSIT
    settings.ORDERS_LOCK_DAYS = 7
    settings.ORDERS_DELIVERY_DAYS = 14
    settings.ORDERS_LATE_POINTS_PER_DAY = 100


@pytest.fixture
def frozen() -> Iterator[datetime]:
    with clock.frozen_at(MONDAY_10):
        yield MONDAY_10


@pytest.fixture
def catalogue(db, frozen) -> Catalogue:
    with clock.frozen_at(MONDAY_10 - timedelta(days=30)):
        return build_catalogue()


@pytest.fixture
def city(db) -> City:
    return shanghai()


@pytest.fixture
def other_city(db) -> City:
    return hangzhou()


@pytest.fixture
def dealer(city) -> Dealer:
    return cast(Dealer, DealerFactory(name="上海浦西4S店", city=city))


@pytest.fixture
def other_dealer(other_city) -> Dealer:
    return cast(Dealer, DealerFactory(name="杭州西湖4S店", city=other_city))


def _user(username: str, role: str, dealer: Dealer | None = None, name: str = "") -> User:
    return cast(User, UserFactory(username=username, display_name=name or username, role=role, dealer=dealer))


@pytest.fixture
def buyer(db) -> User:
    return _user("buyer-zhang", Role.CONSUMER, name="张伟")


@pytest.fixture
def other_buyer(db) -> User:
    return _user("buyer-li", Role.CONSUMER, name="李娜")


@pytest.fixture
def advisor(dealer) -> User:
    return _user("advisor-wang", Role.SALES_ADVISOR, dealer, "王芳")


@pytest.fixture
def manager(dealer) -> User:
    return _user("manager-chen", Role.DEALER_MANAGER, dealer, "陈静")


@pytest.fixture
def other_advisor(other_dealer) -> User:
    return _user("advisor-hz", Role.SALES_ADVISOR, other_dealer, "赵磊")


@pytest.fixture
def ops(db) -> User:
    return _user("ops-li", Role.OPS, name="运营")


@pytest.fixture
def configuration(catalogue, buyer) -> SavedConfiguration:
    return configuration_save(trim_code="aurora-std", option_codes=STD_CHOICES, owner=buyer)


@pytest.fixture
def place(configuration, buyer, dealer) -> Callable[..., Order]:
    def _place(**overrides: Any) -> Order:
        arguments: dict[str, Any] = {"buyer": buyer, "configuration": configuration, "dealer": dealer}
        arguments.update(overrides)
        return order_place(**arguments)

    return _place


@pytest.fixture
def order(place) -> Order:
    return place()


def committed() -> Any:
    """Run what waits for the commit (event subscribers, payments' refund submission) at the block's end,
    as a real commit would; callbacks queued by those callbacks run too."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def intent_for(order: Order, stage: str, *, provider: str = "sandbox") -> PaymentIntent:
    """Start paying `stage` as the buyer and return the intent payments created for it."""
    order_pay_start(order=order, stage=stage, provider=provider, return_url=RETURN_URL, actor=order.buyer)
    intents = [
        intent
        for intent in payment_intents_for(reference=order.number, purpose=f"order.{stage}")
        if intent.status == "created" and intent.provider == provider
    ]
    return intents[-1]


def notify_paid(intent: PaymentIntent, *, notification_id: str | None = None) -> None:
    """The sandbox gateway reports `intent` paid: a signed notification through payments' real path."""
    headers, body = sandbox_notification_build(
        notification_id=notification_id or f"SBN{intent.out_trade_no}PAY",
        out_trade_no=intent.out_trade_no,
        trade_no=f"SBX{intent.out_trade_no}",
        amount_fen=intent.amount_fen,
        status="succeeded",
    )
    with committed():
        outcome = payment_notification_receive(provider="sandbox", headers=headers, body=body, ip="127.0.0.1")
    assert outcome.accepted or outcome.duplicate, outcome.reason


def pay(order: Order, stage: str) -> PaymentIntent:
    intent = intent_for(order, stage)
    notify_paid(intent)
    order.refresh_from_db()
    return intent


def fresh(order: Order) -> Order:
    return Order.objects.get(pk=order.pk)


@pytest.fixture
def deposit_paid(order) -> Order:
    pay(order, "intention")
    pay(order, "deposit")
    return fresh(order)


@pytest.fixture
def locked_order(deposit_paid) -> Order:
    from forecourt.orders.services import order_lock

    return order_lock(order=deposit_paid, actor=deposit_paid.buyer)


@pytest.fixture
def car(catalogue, dealer) -> Vehicle:
    return vehicle_add(vin="LRWYGCEK8PC000001", trim=catalogue.std, option_codes=STD_CHOICES, dealer=dealer)


@pytest.fixture
def allocated_order(locked_order, car, advisor) -> Order:
    from forecourt.orders.services import order_allocate_vehicle

    return order_allocate_vehicle(order=locked_order, vehicle=car, actor=advisor)


@pytest.fixture
def final_paid_order(allocated_order) -> Order:
    pay(allocated_order, "final")
    return fresh(allocated_order)


def make_edition(
    catalogue: Catalogue,
    *,
    units: int,
    city: City | None = None,
    code: str = "aurora-aurora-red",
    hold_minutes: int = 15,
) -> LimitedEdition:
    edition = LimitedEdition.objects.create(
        code=code,
        name="极光 丹霞红 限量版",
        name_en="Aurora Danxia Red limited edition",
        trim=catalogue.pro,
        option_codes=sorted(["red", "tan-int", "wheels-20", "pilot"]),
        hold_minutes=hold_minutes,
        sale_starts_at=MONDAY_10 - timedelta(hours=1),
    )
    EditionStock.objects.create(edition=edition, city=city, units_total=units)
    return edition


@pytest.fixture
def edition(catalogue) -> LimitedEdition:
    return make_edition(catalogue, units=3)


def consumer(index: int) -> User:
    return _user(f"buyer-{index}", Role.CONSUMER, name=f"买家{index}")


def event_names(**filters: Any) -> list[str]:
    return sorted(Event.objects.filter(**filters).values_list("name", flat=True))


def order_events(order: Order) -> list[str]:
    return event_names(subject_type="order", subject_id=order.number)


def stock_counts(edition: LimitedEdition) -> tuple[int, int, int]:
    stock = EditionStock.objects.get(edition=edition)
    return stock.units_total, stock.units_held, stock.units_sold
