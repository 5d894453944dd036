"""The cast for the referrals tests (attribution, fraud, commissions, broker pages): a Shanghai dealer, the
极光 model, a broker (an owner) and their friends, commission rules (CPL ¥200, CPS ¥2,000), and a clock
frozen on Monday 23 November 2026, 10:00. Test modules take the fixtures with
`from .referrals_cast import *` (the programme's tests have their own cast beside this one).

Leads are captured through the real leads service inside `committed()`, so the referrals subscribers run
exactly as they do after a real commit.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from django.core.cache import cache
from django.test import TestCase
from django.utils import translation

from forecourt.accounts.models import Role, User
from forecourt.accounts.services import consumer_get_or_create_by_phone
from forecourt.accounts.tests.factories import UserFactory
from forecourt.catalog.models import VehicleModel
from forecourt.catalog.tests.factories import TrimFactory
from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.core.events import event_record
from forecourt.core.models import Event
from forecourt.dealers.models import City, Dealer
from forecourt.dealers.tests.factories import DealerFactory, shanghai
from forecourt.leads.models import Lead
from forecourt.leads.services import lead_capture
from forecourt.orders.models import Order, OrderStatus
from forecourt.orders.services import vehicle_add
from forecourt.referrals.models import (
    Broker,
    CommissionKind,
    CommissionRule,
    Referral,
    Task,
    TaskGoal,
    TaskStatus,
)

# Monday 23 November 2026, 10:00 in Shanghai.
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
BROKER_PHONE = "13800138000"
FRIEND_PHONE = "13912345678"
CPL_FEN = 200_00
CPS_FEN = 2_000_00
DEVICE = "friendsphone-0000000001"
BROKER_DEVICE = "brokersphone-000000001"

__all__ = [
    "BROKER_DEVICE",
    "BROKER_PHONE",
    "CPL_FEN",
    "CPS_FEN",
    "DEVICE",
    "FRIEND_PHONE",
    "MONDAY_10",
    "_english_messages",
    "_fresh_cache",
    "broker",
    "broker_user",
    "capture",
    "city",
    "committed",
    "consumer",
    "dealer",
    "delivery_task_with_one_result",
    "event_names",
    "frozen",
    "make_order",
    "mark_delivered",
    "model",
    "ops",
    "other_broker",
    "record",
    "referral_events",
    "rules",
]


@pytest.fixture(autouse=True)
def _english_messages() -> Iterator[None]:
    # Services speak the active language (Chinese by default); tests read the English source strings.
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def frozen() -> Iterator[datetime]:
    with clock.frozen_at(MONDAY_10):
        yield MONDAY_10


@pytest.fixture
def city(db) -> City:
    return shanghai()


@pytest.fixture
def dealer(city) -> Dealer:
    return cast(Dealer, DealerFactory(name="上海浦西4S店", city=city))


@pytest.fixture
def model(db) -> VehicleModel:
    return VehicleModel.objects.create(
        code="aurora", name="极光", name_en="Aurora", body_type="sedan", powertrain="bev"
    )


def consumer(phone: str, name: str) -> User:
    return consumer_get_or_create_by_phone(phone=f"+86{phone}", display_name=name)


@pytest.fixture
def broker_user(db) -> User:
    return consumer(BROKER_PHONE, "林浩")


def make_broker(user: User, *, city: City | None = None) -> Broker:
    return Broker.objects.create(user=user, city=city, enrolled_at=clock.now() - timedelta(days=30))


@pytest.fixture
def broker(broker_user, city) -> Broker:
    return make_broker(broker_user, city=city)


@pytest.fixture
def other_broker(city) -> Broker:
    return make_broker(consumer("13700137000", "周杰"), city=city)


@pytest.fixture
def ops(db) -> User:
    return cast(User, UserFactory(username="ops-zhou", display_name="运营 周敏", role=Role.OPS))


@pytest.fixture
def rules(db) -> dict[str, CommissionRule]:
    return {
        "cpl": CommissionRule.objects.create(kind=CommissionKind.CPL, amount_fen=CPL_FEN),
        "cps": CommissionRule.objects.create(kind=CommissionKind.CPS, amount_fen=CPS_FEN),
    }


def committed() -> Any:
    """Run what waits for the commit (the event subscribers) at the block's end, as a real commit would."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def capture(
    *, phone: str = FRIEND_PHONE, name: str = "王芳", broker_code: str = "", **overrides: Any
) -> tuple[Lead, bool]:
    """A price inquiry for 极光 in Shanghai through the real leads service, subscribers run."""
    arguments: dict[str, Any] = {
        "name": name,
        "phone": phone,
        "city_code": "shanghai",
        "model_code": "aurora",
        "channel": "web_price_inquiry",
        "share_with_dealer": True,
        "broker_code": broker_code,
    }
    arguments.update(overrides)
    with committed():
        return lead_capture(**arguments)


def event_names(**filters: Any) -> list[str]:
    return sorted(Event.objects.filter(**filters).values_list("name", flat=True))


def referral_events(referral: Referral) -> list[str]:
    return event_names(subject_type="referral", subject_id=referral.public_id)


def make_order(person: User, model: VehicleModel, dealer: Dealer, status: str = OrderStatus.CREATED) -> Order:
    """An order row of `model` for `person` (the orders app's own flow is exercised in test_broker_flow)."""
    moment = clock.now()
    return Order.objects.create(
        buyer=person,
        trim=TrimFactory.create(model=model),
        price_list_version=1,
        vehicle_price_fen=200_000_00,
        total_fen=200_000_00,
        intention_fen=2_000_00,
        deposit_fen=20_000_00,
        dealer=dealer,
        city=dealer.city,
        status=status,
        cancelled_at=moment if status == OrderStatus.CANCELLED else None,
        created_at=moment,
        updated_at=moment,
    )


_vins = itertools.count(1)


def mark_delivered(order: Order) -> Order:
    """The order row as orders leaves it at delivery (with its car); the event comes separately."""
    car = vehicle_add(
        vin=f"LRWYGCEK8PC{next(_vins):06d}", trim=order.trim, option_codes=[], dealer=order.dealer
    )
    Order.objects.filter(pk=order.pk).update(
        status=OrderStatus.DELIVERED, vehicle=car, delivered_at=clock.now()
    )
    order.refresh_from_db()
    return order


def record(name: str, *, subject_type: str = "", subject_id: str = "", **payload: Any) -> Event:
    """Record another app's event and run its subscribers, as after a real commit."""
    with committed():
        return event_record(name, subject_type=subject_type, subject_id=subject_id, payload=payload)


def delivery_task_with_one_result(*, title: str, amount_fen: int, kind: str = CommissionKind.CPL) -> Task:
    """A running delivery task (budget ¥1,000) whose money for one result is already committed."""
    moment = clock.now()
    return Task.objects.create(
        title=title,
        goal=TaskGoal.DELIVERY,
        kind=kind,
        amount_fen=amount_fen,
        budget_fen=1_000_00,
        committed_fen=amount_fen,
        starts_at=moment - timedelta(days=1),
        ends_at=moment + timedelta(days=30),
        status=TaskStatus.PUBLISHED,
        created_at=moment,
    )
