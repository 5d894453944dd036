from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from forecourt.core.clock import SHANGHAI as SHANGHAI_TIME
from forecourt.dealers.models import SERVICES, Dealer, validate_opening_hours
from forecourt.dealers.tests.factories import DealerFactory, hangzhou

pytestmark = pytest.mark.django_db

# 2026-11-23 is a Monday.
MONDAY_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=SHANGHAI_TIME)


def _refused(**fields) -> None:
    city = hangzhou()
    with pytest.raises(IntegrityError), transaction.atomic():
        DealerFactory.create(city=city, **fields)
    assert Dealer.objects.count() == 0


def test_an_experience_store_never_sells():
    _refused(experience_store=True, offers_sales=True)


def test_an_experience_store_never_services():
    _refused(experience_store=True, offers_service=True)


def test_a_4s_dealer_must_offer_service():
    _refused(offers_service=False)


def test_a_4s_dealer_must_offer_sales():
    _refused(offers_sales=False)


def test_a_service_centre_never_sells():
    _refused(service_centre=True, offers_sales=True)


def test_a_service_centre_must_service():
    _refused(service_centre=True, offers_service=False)


def test_a_delivery_centre_must_deliver():
    _refused(delivery_centre=True, offers_delivery=False)


def test_a_delivery_centre_never_services():
    _refused(delivery_centre=True, offers_service=True)


def test_an_unknown_kind_is_refused():
    _refused(kind="car_wash")


@pytest.mark.parametrize(
    ("latitude", "longitude"), [("90.5", "120"), ("-91", "120"), ("30", "180.5"), ("30", "-181")]
)
def test_coordinates_out_of_range_are_refused(latitude, longitude):
    _refused(latitude=Decimal(latitude), longitude=Decimal(longitude))


def test_an_experience_store_may_offer_test_drives_only():
    store = DealerFactory.create(city=hangzhou(), experience_store=True)
    assert store.services == ["test_drive"]
    assert store.kind == "experience_store"


def test_full_clean_explains_a_broken_kind_rule():
    dealer = DealerFactory.build(city=hangzhou(), experience_store=True, offers_sales=True)
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        dealer.full_clean()
    assert "An experience store may not offer sales or service." in raised.value.messages


def test_a_4s_dealer_offers_every_service_in_order():
    dealer = DealerFactory.create(city=hangzhou())
    assert dealer.services == list(SERVICES) == ["sales", "test_drive", "delivery", "service"]
    assert dealer.offers("sales") is True
    with pytest.raises(ValueError):
        dealer.offers("car_wash")


def test_public_ids_are_unguessable_and_distinct():
    city = hangzhou()
    first, second = DealerFactory.create(city=city), DealerFactory.create(city=city)
    assert first.public_id.startswith("dlr_")
    assert len(first.public_id) == 20
    assert first.public_id != second.public_id


def test_province_comes_from_the_city():
    assert DealerFactory.create(city=hangzhou()).province == "浙江"


def test_phone_link_keeps_only_digits():
    dealer = DealerFactory.build(phone="0571-8765 4321")
    assert dealer.phone_uri == "tel:057187654321"
    assert DealerFactory.build(phone="").phone_uri == ""


@pytest.mark.parametrize(
    "hours",
    [
        {"mon": ["09:00", "21:00"], "sun": ["10:00", "16:00"]},
        {},
        {"fri": ["00:00", "24:00"]},
    ],
)
def test_valid_opening_hours_pass(hours):
    validate_opening_hours(hours)


@pytest.mark.parametrize(
    "hours",
    [
        [],
        {"monday": ["09:00", "21:00"]},
        {"mon": ["9:00", "21:00"]},
        {"mon": ["09:00"]},
        {"mon": ["21:00", "09:00"]},
        {"mon": ["09:00", "25:00"]},
        {"mon": "09:00-21:00"},
    ],
)
def test_invalid_opening_hours_are_refused(hours):
    with pytest.raises(ValidationError):
        validate_opening_hours(hours)


def test_hours_today_follow_shanghai_time():
    dealer = DealerFactory.build(opening_hours={"mon": ["09:00", "18:00"], "tue": ["10:00", "22:00"]})
    assert dealer.hours_today(MONDAY_NOON) == ("09:00", "18:00")
    # 17:00 UTC on Monday is 01:00 on Tuesday in Shanghai.
    assert dealer.hours_today(datetime(2026, 11, 23, 17, 0, tzinfo=UTC)) == ("10:00", "22:00")
    assert dealer.hours_today(datetime(2026, 11, 24, 1, 0, tzinfo=SHANGHAI_TIME)) == ("10:00", "22:00")
    assert dealer.hours_today(datetime(2026, 11, 25, 12, 0, tzinfo=SHANGHAI_TIME)) is None


def test_open_and_closed_at_a_moment():
    dealer = DealerFactory.build(opening_hours={"mon": ["09:00", "18:00"]})
    assert dealer.is_open_at(MONDAY_NOON)
    assert not dealer.is_open_at(MONDAY_NOON.replace(hour=18))
    assert not dealer.is_open_at(MONDAY_NOON.replace(hour=8, minute=59))
    assert not dealer.is_open_at(datetime(2026, 11, 24, 12, 0, tzinfo=SHANGHAI_TIME))


def test_opening_hours_display_merges_equal_days():
    dealer = DealerFactory.build(
        opening_hours={
            **{day: ["09:00", "18:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
            "sat": ["10:00", "16:00"],
        }
    )
    with translation.override("en"):
        assert dealer.opening_hours_display() == [
            ("Mon–Fri", "09:00–18:00"),
            ("Sat", "10:00–16:00"),
            ("Sun", "Closed"),
        ]
        assert dealer.opening_hours_today_display(MONDAY_NOON) == "09:00–18:00"
    with translation.override("zh-hans"):
        assert dealer.opening_hours_display()[0] == ("周一至周五", "09:00–18:00")
        assert dealer.opening_hours_display()[2] == ("周日", "休息")
