"""Slots: derived from opening hours, capacity from demo cars and advisors, created on demand."""

from datetime import date, datetime, timedelta

import pytest

from forecourt.accounts.models import Role
from forecourt.appointments.models import AppointmentKind, Slot, SlotTemplate
from forecourt.appointments.services import slot_get_or_create, slots_for_day
from forecourt.appointments.slot_rules import DEFAULT_ADVISORS, slot_rule
from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.core.errors import DomainError
from forecourt.dealers.tests.factories import DealerFactory

from .conftest import HOURS, TUESDAY_10

TUESDAY = date(2026, 11, 24)
SUNDAY = date(2026, 11, 29)

pytestmark = pytest.mark.django_db


def test_test_drive_slots_are_hourly_within_opening_hours(dealer, frozen):
    slots = slots_for_day(dealer=dealer, kind=AppointmentKind.TEST_DRIVE, day=TUESDAY)
    assert [slot.start.astimezone(SHANGHAI).strftime("%H:%M") for slot in slots] == [
        "09:00",
        "10:00",
        "11:00",
        "12:00",
        "13:00",
        "14:00",
        "15:00",
        "16:00",
        "17:00",
    ]
    assert all(slot.end - slot.start == timedelta(minutes=60) for slot in slots)


def test_visit_slots_are_half_hourly_and_the_last_ends_at_closing(dealer, frozen):
    slots = slots_for_day(dealer=dealer, kind=AppointmentKind.VISIT, day=TUESDAY)
    assert len(slots) == 18
    assert slots[-1].end.astimezone(SHANGHAI).strftime("%H:%M") == "18:00"


def test_test_drive_capacity_is_the_smaller_of_demo_cars_and_advisors(dealer, frozen):
    slots = slots_for_day(dealer=dealer, kind=AppointmentKind.TEST_DRIVE, day=TUESDAY)
    assert {slot.capacity for slot in slots} == {2}
    dealer.demo_car_count = 5
    assert slot_rule(dealer, AppointmentKind.TEST_DRIVE).capacity == 3


def test_visit_capacity_is_the_number_of_sales_advisors(dealer, frozen):
    # The manager does not count: visitors are received by sales advisors.
    slots = slots_for_day(dealer=dealer, kind=AppointmentKind.VISIT, day=TUESDAY)
    assert {slot.capacity for slot in slots} == {3}


def test_a_dealer_without_staff_or_demo_cars_gets_default_capacity(db, frozen):
    bare = DealerFactory.create(opening_hours=HOURS, demo_car_count=0)
    assert bare.staff.count() == 0
    assert slot_rule(bare, AppointmentKind.VISIT).capacity == DEFAULT_ADVISORS
    assert slot_rule(bare, AppointmentKind.TEST_DRIVE).capacity == 1


def test_inactive_advisors_do_not_count(dealer, frozen):
    dealer.staff.filter(role=Role.SALES_ADVISOR).exclude(
        pk=dealer.staff.filter(role=Role.SALES_ADVISOR).order_by("pk").first().pk
    ).update(is_active=False)
    assert slot_rule(dealer, AppointmentKind.VISIT).capacity == 1


def test_a_slot_template_overrides_length_and_capacity(dealer, frozen):
    SlotTemplate.objects.create(dealer=dealer, kind=AppointmentKind.TEST_DRIVE, slot_minutes=90, capacity=6)
    slots = slots_for_day(dealer=dealer, kind=AppointmentKind.TEST_DRIVE, day=TUESDAY)
    assert [slot.start.astimezone(SHANGHAI).strftime("%H:%M") for slot in slots] == [
        "09:00",
        "10:30",
        "12:00",
        "13:30",
        "15:00",
        "16:30",
    ]
    assert {slot.capacity for slot in slots} == {6}


def test_listing_creates_slots_once(dealer, frozen):
    slots_for_day(dealer=dealer, kind=AppointmentKind.TEST_DRIVE, day=TUESDAY)
    slots_for_day(dealer=dealer, kind=AppointmentKind.TEST_DRIVE, day=TUESDAY)
    assert Slot.objects.filter(dealer=dealer, kind=AppointmentKind.TEST_DRIVE).count() == 9


def test_a_closed_day_has_no_slots(dealer, frozen):
    assert slots_for_day(dealer=dealer, kind=AppointmentKind.TEST_DRIVE, day=SUNDAY) == []
    assert Slot.objects.count() == 0


def test_past_days_and_days_beyond_the_window_have_no_slots(dealer, frozen):
    assert slots_for_day(dealer=dealer, kind=AppointmentKind.VISIT, day=date(2026, 11, 22)) == []
    assert slots_for_day(dealer=dealer, kind=AppointmentKind.VISIT, day=date(2027, 1, 10)) == []
    assert Slot.objects.count() == 0


def test_today_lists_only_slots_that_have_not_started(dealer):
    with clock.frozen_at(datetime(2026, 11, 23, 14, 30, tzinfo=SHANGHAI)):
        slots = slots_for_day(dealer=dealer, kind=AppointmentKind.TEST_DRIVE, day=date(2026, 11, 23))
    assert [slot.start.astimezone(SHANGHAI).hour for slot in slots] == [15, 16, 17]


def test_slot_get_or_create_rejects_a_time_off_the_grid(dealer, frozen):
    with pytest.raises(DomainError) as raised:
        slot_get_or_create(
            dealer=dealer, kind=AppointmentKind.TEST_DRIVE, start=TUESDAY_10 + timedelta(minutes=15)
        )
    assert (raised.value.code, raised.value.status) == ("not_a_slot", 422)
    assert raised.value.details[0]["field"] == "start"
    assert Slot.objects.count() == 0


def test_slot_get_or_create_rejects_a_closed_day_and_the_past(dealer, frozen):
    with pytest.raises(DomainError) as closed:
        slot_get_or_create(
            dealer=dealer, kind=AppointmentKind.VISIT, start=datetime(2026, 11, 29, 10, 0, tzinfo=SHANGHAI)
        )
    assert closed.value.code == "not_a_slot"
    with pytest.raises(DomainError) as past:
        slot_get_or_create(
            dealer=dealer, kind=AppointmentKind.VISIT, start=datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
        )
    assert (past.value.code, past.value.status) == ("slot_in_past", 422)


def test_a_naive_start_is_read_as_shanghai_time(dealer, frozen):
    slot = slot_get_or_create(
        dealer=dealer, kind=AppointmentKind.TEST_DRIVE, start=datetime(2026, 11, 24, 10, 0)
    )
    assert slot.start == TUESDAY_10
