"""The cast for appointments tests: a Shanghai dealer with three advisors and two demo cars, a second
dealer with its own staff, a consumer, a vehicle model, and a clock frozen early on a Monday."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from django.core.cache import cache

from forecourt.accounts.models import Role, User
from forecourt.accounts.tests.factories import UserFactory
from forecourt.appointments.models import Appointment, AppointmentKind
from forecourt.appointments.services import appointment_book
from forecourt.catalog.models import VehicleModel
from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.dealers.models import Dealer
from forecourt.dealers.tests.factories import DealerFactory, hangzhou, shanghai

# Monday 23 November 2026, 08:00 in Shanghai: before opening, so every slot of the day is ahead.
MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=SHANGHAI)
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)
TUESDAY_11 = datetime(2026, 11, 24, 11, 0, tzinfo=SHANGHAI)
PHONE = "13800138000"
OTHER_PHONE = "13912345678"
# Open 09:00–18:00 Monday to Saturday, closed on Sunday.
HOURS = {day: ["09:00", "18:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat")}


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    # Rate-limit counters live in the cache; each test starts from zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def frozen() -> Iterator[datetime]:
    with clock.frozen_at(MONDAY_8):
        yield MONDAY_8


def _staff(dealer: Dealer, role: str, name: str) -> User:
    user: User = UserFactory.create(role=role, dealer=dealer, display_name=name)
    return user


@pytest.fixture
def dealer(db) -> Dealer:
    """Two demo cars and three advisors: 2 places per test-drive slot, 3 per visit slot."""
    dealer: Dealer = DealerFactory.create(
        name="上海浦西4S店", city=shanghai(), opening_hours=HOURS, demo_car_count=2
    )
    for name in ("王芳", "李娜", "刘洋"):
        _staff(dealer, Role.SALES_ADVISOR, name)
    _staff(dealer, Role.DEALER_MANAGER, "陈经理")
    return dealer


@pytest.fixture
def advisor(dealer) -> User:
    return dealer.staff.filter(role=Role.SALES_ADVISOR).order_by("pk").first()


@pytest.fixture
def other_dealer(db) -> Dealer:
    dealer: Dealer = DealerFactory.create(
        name="杭州西湖4S店", city=hangzhou(), opening_hours=HOURS, demo_car_count=3
    )
    _staff(dealer, Role.SALES_ADVISOR, "赵强")
    return dealer


@pytest.fixture
def other_advisor(other_dealer) -> User:
    return other_dealer.staff.get()


@pytest.fixture
def model(db) -> VehicleModel:
    return VehicleModel.objects.create(
        code="aurora", name="极光", name_en="Aurora", body_type="sedan", powertrain="bev"
    )


@pytest.fixture
def book(dealer, model, frozen) -> Callable[..., Appointment]:
    """Book through the service with sensible defaults; keyword arguments override them."""

    def _book(**overrides: Any) -> Appointment:
        arguments: dict[str, Any] = {
            "dealer_public_id": dealer.public_id,
            "kind": AppointmentKind.TEST_DRIVE,
            "start": TUESDAY_10,
            "name": "张伟",
            "phone": PHONE,
            "model_code": model.code,
            "share_with_dealer": True,
        }
        arguments.update(overrides)
        return appointment_book(**arguments)

    return _book
