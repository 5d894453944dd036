"""The programme tests' cast (tasks, honours, statements, ops): two cities, brokers, the friends they
referred, commissions in every status, an ops member, and a clock set to Tuesday 10 November 2026.

Rows the referrals app writes through its own services (referrals, commissions) are made directly here,
so these tests pin down the programme's rules alone; the event-driven paths go through the real
subscribers. Test modules take the fixtures with `from .programme_cast import *`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from django.test import TestCase
from django.utils import translation

from forecourt.accounts.models import Role, User
from forecourt.accounts.tests.factories import UserFactory
from forecourt.catalog.models import VehicleModel
from forecourt.catalog.tests.factories import VehicleModelFactory
from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.core.models import Event
from forecourt.dealers.models import City, Dealer
from forecourt.dealers.tests.factories import DealerFactory, hangzhou, shanghai
from forecourt.referrals.models import (
    Broker,
    Commission,
    CommissionKind,
    CommissionStatus,
    Referral,
    Stage,
    Task,
)

# Tuesday 10 November 2026, 10:00 in Shanghai.
NOV_10 = datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI)
NOV_1 = datetime(2026, 11, 1, 0, 0, tzinfo=SHANGHAI)
DEC_1 = datetime(2026, 12, 1, 0, 0, tzinfo=SHANGHAI)
PASSWORD = "correct-horse-battery"

__all__ = [
    "DEC_1",
    "NOV_1",
    "NOV_10",
    "PASSWORD",
    "_english_messages",
    "broker",
    "committed",
    "event_names",
    "frozen",
    "hangzhou_city",
    "make_broker",
    "make_commission",
    "make_referral",
    "make_task",
    "ops",
    "other_broker",
    "shanghai_city",
    "shanghai_dealer",
    "suv",
]


@pytest.fixture(autouse=True)
def _english_messages() -> Iterator[None]:
    # Services speak the active language (Chinese by default); tests read the English source strings.
    with translation.override("en"):
        yield


@pytest.fixture
def frozen() -> Iterator[datetime]:
    with clock.frozen_at(NOV_10):
        yield NOV_10


@pytest.fixture
def shanghai_city(db) -> City:
    return shanghai()


@pytest.fixture
def hangzhou_city(db) -> City:
    return hangzhou()


@pytest.fixture
def shanghai_dealer(shanghai_city) -> Dealer:
    return cast(Dealer, DealerFactory(name="上海浦西4S店", city=shanghai_city))


@pytest.fixture
def suv(db) -> VehicleModel:
    return cast(VehicleModel, VehicleModelFactory(code="nebula", name="星云", name_en="Nebula"))


def _user(username: str, role: str, name: str) -> User:
    return cast(User, UserFactory(username=username, display_name=name, role=role))


def make_broker(username: str, *, city: City | None = None, name: str = "") -> Broker:
    user = _user(username, Role.BROKER, name or username)
    return Broker.objects.create(user=user, city=city, enrolled_at=clock.now() - timedelta(days=60))


@pytest.fixture
def broker(shanghai_city) -> Broker:
    return make_broker("broker-lin", city=shanghai_city, name="车主经纪人 林浩")


@pytest.fixture
def other_broker(shanghai_city) -> Broker:
    return make_broker("broker-zhou", city=shanghai_city, name="周杰")


@pytest.fixture
def ops(db) -> User:
    return _user("ops-zhou", Role.OPS, "运营 周敏")


_counter = {"n": 0}


def make_referral(
    broker: Broker,
    *,
    person: User | None = None,
    stage: str = Stage.REFERRED,
    model_code: str = "nebula",
    city: City | None = None,
    flags: list[dict[str, Any]] | None = None,
    referred_at: datetime | None = None,
    qualified_at: datetime | None = None,
    delivered_at: datetime | None = None,
    order_number: str = "",
) -> Referral:
    _counter["n"] += 1
    number = _counter["n"]
    moment = referred_at or clock.now() - timedelta(days=5)
    if person is None:
        person = _user(f"friend-{number}", Role.CONSUMER, f"朋友{number}")
    return Referral.objects.create(
        broker=broker,
        person=person,
        lead_public_id=f"led_test{number:06d}",
        model_code=model_code,
        city=city if city is not None else broker.city,
        stage=stage,
        flags=flags or [],
        referred_at=moment,
        qualified_at=qualified_at,
        delivered_at=delivered_at,
        order_number=order_number,
        updated_at=moment,
    )


def make_commission(
    referral: Referral,
    *,
    amount_fen: int,
    status: str = CommissionStatus.AVAILABLE,
    available_at: datetime | None = None,
    kind: str = CommissionKind.CPL,
    task: Task | None = None,
    clawed_back_at: datetime | None = None,
    **fields: Any,
) -> Commission:
    _counter["n"] += 1
    moment = clock.now()
    return Commission.objects.create(
        broker=referral.broker,
        referral=referral,
        kind=kind,
        task=task,
        amount_fen=amount_fen,
        status=status,
        available_at=available_at or moment - timedelta(days=1),
        idempotency_key=f"test:{_counter['n']}",
        created_at=moment - timedelta(days=4),
        updated_at=moment,
        clawed_back_at=clawed_back_at,
        **fields,
    )


def make_task(**fields: Any) -> Task:
    """A published test-drive task running all of November (¥200 a result, budget ¥1,000)."""
    values: dict[str, Any] = {
        "title": "新款 SUV 试驾 20 台",
        "goal": "test_drive",
        "kind": CommissionKind.CPL,
        "amount_fen": 200_00,
        "budget_fen": 1_000_00,
        "target_count": 5,
        "starts_at": NOV_1,
        "ends_at": DEC_1,
        "status": "published",
        "created_at": NOV_1,
    }
    values.update(fields)
    return Task.objects.create(**values)


def committed() -> Any:
    """Run what waits for the commit (event subscribers) at the block's end, as a real commit would."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def event_names(**filters: Any) -> list[str]:
    return sorted(Event.objects.filter(**filters).values_list("name", flat=True))
