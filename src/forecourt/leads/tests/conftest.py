"""The cast for leads tests: a Shanghai network of three sales dealers and an experience store, one in
Hangzhou, their staff (advisors and managers), ops, and a clock frozen on a Monday morning."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import pytest
from django.core.cache import cache
from django.utils import translation

from forecourt.accounts.models import Role, User
from forecourt.accounts.tests.factories import UserFactory
from forecourt.catalog.models import VehicleModel
from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.core.models import Event
from forecourt.dealers.models import City, Dealer
from forecourt.dealers.tests.factories import DealerFactory, hangzhou, shanghai
from forecourt.leads.models import Lead
from forecourt.leads.services import lead_capture

# Monday 23 November 2026, 10:00 in Shanghai: well inside the 08:30–21:00 business day.
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
PHONE = "13800138000"
OTHER_PHONE = "13912345678"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _english_messages() -> Iterator[None]:
    # Services speak the active language (Chinese by default); tests read the English source strings.
    # Pages pick their language per request (LocaleMiddleware), so page tests are unaffected.
    with translation.override("en"):
        yield


@pytest.fixture
def frozen() -> Iterator[datetime]:
    with clock.frozen_at(MONDAY_10):
        yield MONDAY_10


@pytest.fixture
def city(db) -> City:
    return shanghai()


@pytest.fixture
def other_city(db) -> City:
    return hangzhou()


@pytest.fixture
def model(db) -> VehicleModel:
    return VehicleModel.objects.create(
        code="aurora", name="极光", name_en="Aurora", body_type="sedan", powertrain="bev"
    )


@pytest.fixture
def other_model(db) -> VehicleModel:
    return VehicleModel.objects.create(
        code="summit", name="峰峦", name_en="Summit", body_type="suv", powertrain="phev"
    )


def _offset(city: City, km_north: float) -> Decimal:
    # One degree of latitude is about 111 km.
    return (city.latitude + Decimal(str(round(km_north / 111.0, 6)))).quantize(Decimal("0.000001"))


@pytest.fixture
def dealer(city) -> Dealer:
    """The nearest sales dealer to the Shanghai city centre (1 km)."""
    return cast(
        Dealer, DealerFactory(name="上海浦西4S店", city=city, latitude=_offset(city, 1), lead_capacity=10)
    )


@pytest.fixture
def second_dealer(city) -> Dealer:
    return cast(
        Dealer, DealerFactory(name="上海浦东4S店", city=city, latitude=_offset(city, 5), lead_capacity=10)
    )


@pytest.fixture
def third_dealer(city) -> Dealer:
    return cast(
        Dealer, DealerFactory(name="上海闵行4S店", city=city, latitude=_offset(city, 9), lead_capacity=10)
    )


@pytest.fixture
def experience_store(city) -> Dealer:
    return cast(Dealer, DealerFactory(name="上海来福士体验店", city=city, experience_store=True))


@pytest.fixture
def other_dealer(other_city) -> Dealer:
    """A dealer in another city: the other tenant in tenancy tests."""
    return cast(Dealer, DealerFactory(name="杭州西湖4S店", city=other_city))


def _staff(username: str, role: str, dealer: Dealer | None) -> User:
    return cast(User, UserFactory(username=username, display_name=username, role=role, dealer=dealer))


@pytest.fixture
def advisor(dealer) -> User:
    return _staff("advisor-wang", Role.SALES_ADVISOR, dealer)


@pytest.fixture
def second_advisor(dealer) -> User:
    return _staff("advisor-zhao", Role.SALES_ADVISOR, dealer)


@pytest.fixture
def manager(dealer) -> User:
    return _staff("manager-chen", Role.DEALER_MANAGER, dealer)


@pytest.fixture
def other_advisor(other_dealer) -> User:
    return _staff("advisor-hz", Role.SALES_ADVISOR, other_dealer)


@pytest.fixture
def other_manager(other_dealer) -> User:
    return _staff("manager-hz", Role.DEALER_MANAGER, other_dealer)


@pytest.fixture
def ops(db) -> User:
    return _staff("ops-li", Role.OPS, None)


def capture(**overrides: Any) -> tuple[Lead, bool]:
    """lead_capture with a valid inquiry for 极光 in Shanghai, consent given; override any argument."""
    arguments: dict[str, Any] = {
        "name": "张伟",
        "phone": PHONE,
        "city_code": "shanghai",
        "model_code": "aurora",
        "channel": "web_price_inquiry",
        "share_with_dealer": True,
    }
    arguments.update(overrides)
    return lead_capture(**arguments)


@pytest.fixture
def routed_lead(frozen, model, dealer) -> Lead:
    """A new lead routed to `dealer` at Monday 10:00, nobody has touched it yet."""
    lead, _created = capture()
    assert lead.dealer_id == dealer.pk
    return lead


@pytest.fixture
def claimed_lead(routed_lead, advisor) -> Lead:
    from forecourt.leads.services import lead_claim

    return lead_claim(lead=routed_lead, actor=advisor)


def event_names(**filters: Any) -> list[str]:
    """Event names, sorted: events of one frozen moment have no order of their own (UUID keys)."""
    return sorted(Event.objects.filter(**filters).values_list("name", flat=True))


def lead_events(lead: Lead) -> list[str]:
    return event_names(subject_type="lead", subject_id=lead.public_id)
