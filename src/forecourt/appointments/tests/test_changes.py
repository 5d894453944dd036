"""Reschedule and cancel, by the consumer or the dealer: the slot counters stay exact."""

from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecourt.accounts.models import OutboxMessage
from forecourt.appointments.models import PLACE_HOLDING_STATUSES, Appointment, AppointmentStatus, Slot
from forecourt.appointments.services import appointment_cancel, appointment_reschedule
from forecourt.core.clock import SHANGHAI
from forecourt.core.errors import DomainError
from forecourt.core.models import Event

from .conftest import TUESDAY_10, TUESDAY_11

pytestmark = pytest.mark.django_db


def _booked(start: datetime) -> int:
    return Slot.objects.get(start=start, kind="test_drive").booked


def test_reschedule_moves_the_place_from_the_old_slot_to_the_new(book):
    appointment = book()
    moved = appointment_reschedule(appointment=appointment, start=TUESDAY_11, actor=appointment.person)
    assert (_booked(TUESDAY_10), _booked(TUESDAY_11)) == (0, 1)
    assert moved.slot.start == TUESDAY_11
    assert moved.status == AppointmentStatus.BOOKED
    assert moved.reschedule_count == 1
    event = Event.objects.get(name="appointment.rescheduled")
    assert event.payload["previous_start"] == "2026-11-24T10:00:00+08:00"
    assert event.payload["start"] == "2026-11-24T11:00:00+08:00"
    assert event.payload["lead_id"] == appointment.lead_id
    assert event.payload["by"] == "consumer"
    assert event.dealer_id == appointment.dealer_id


def test_reschedule_to_a_full_slot_changes_nothing(book):
    book(phone="13800138001", start=TUESDAY_11)
    book(phone="13800138002", start=TUESDAY_11)
    appointment = book()
    with pytest.raises(DomainError) as raised:
        appointment_reschedule(appointment=appointment, start=TUESDAY_11)
    assert (raised.value.code, raised.value.status) == ("slot_full", 409)
    assert (_booked(TUESDAY_10), _booked(TUESDAY_11)) == (1, 2)
    assert Appointment.objects.get(pk=appointment.pk).slot.start == TUESDAY_10
    assert not Event.objects.filter(name="appointment.rescheduled").exists()


def test_reschedule_to_the_same_slot_is_refused(book):
    appointment = book()
    with pytest.raises(DomainError) as raised:
        appointment_reschedule(appointment=appointment, start=TUESDAY_10)
    assert (raised.value.code, raised.value.status) == ("same_slot", 422)
    assert _booked(TUESDAY_10) == 1


def test_reschedule_by_the_dealer_is_marked_as_such(book, advisor):
    appointment = book()
    appointment_reschedule(appointment=appointment, start=TUESDAY_11, actor=advisor)
    assert Event.objects.get(name="appointment.rescheduled").payload["by"] == "dealer"


def test_rescheduling_clears_the_reminder_and_sends_the_new_time(book, django_capture_on_commit_callbacks):
    appointment = book()
    Appointment.objects.filter(pk=appointment.pk).update(reminder_sent_at=appointment.created_at)
    with django_capture_on_commit_callbacks(execute=True):
        appointment_reschedule(appointment=appointment, start=TUESDAY_11)
    assert Appointment.objects.get(pk=appointment.pk).reminder_sent_at is None
    assert "2026-11-24 11:00" in OutboxMessage.objects.get(purpose="appointment_rescheduled").text


def test_cancel_gives_the_place_back(book):
    appointment = book()
    cancelled = appointment_cancel(appointment=appointment, actor=appointment.person, reason="有事")
    assert cancelled.status == AppointmentStatus.CANCELLED
    assert cancelled.cancelled_by_dealer is False
    assert _booked(TUESDAY_10) == 0
    event = Event.objects.get(name="appointment.cancelled")
    assert (event.payload["by"], event.payload["reason"], event.payload["lead_id"]) == (
        "consumer",
        "有事",
        appointment.lead_id,
    )


def test_cancel_by_the_dealer(book, advisor):
    appointment = book()
    assert appointment_cancel(appointment=appointment, actor=advisor).cancelled_by_dealer is True


def test_a_cancelled_appointment_cannot_be_cancelled_or_moved_again(book):
    appointment = book()
    appointment_cancel(appointment=appointment)
    for attempt in (
        lambda: appointment_cancel(appointment=appointment),
        lambda: appointment_reschedule(appointment=appointment, start=TUESDAY_11),
    ):
        with pytest.raises(DomainError) as raised:
            attempt()
        assert (raised.value.code, raised.value.status) == ("not_allowed_in_status", 409)
    assert _booked(TUESDAY_10) == 0
    assert Event.objects.filter(name="appointment.cancelled").count() == 1
    assert not Event.objects.filter(name="appointment.rescheduled").exists()


def test_another_dealers_staff_cannot_change_an_appointment(book, other_advisor):
    appointment = book()
    with pytest.raises(DomainError) as raised:
        appointment_cancel(appointment=appointment, actor=other_advisor)
    assert raised.value.status == 404
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.BOOKED
    assert not Event.objects.filter(name="appointment.cancelled").exists()


def test_a_freed_place_can_be_booked_again(book):
    first = book(phone="13800138001")
    book(phone="13800138002")
    appointment_cancel(appointment=first)
    third = book(phone="13800138003")
    assert third.slot.start == TUESDAY_10
    assert _booked(TUESDAY_10) == 2


# Each step: book a new appointment at hour h, reschedule appointment i to hour h, or cancel appointment i.
_steps = st.lists(
    st.tuples(st.sampled_from(["book", "move", "cancel"]), st.integers(0, 7), st.integers(9, 12)),
    min_size=1,
    max_size=14,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=_steps)
def test_counters_always_equal_the_places_held(book, steps):
    """Whatever mix of bookings, moves and cancellations (succeeding or refused), every slot's counter
    equals the number of appointments holding a place in it, and never exceeds its capacity."""
    Appointment.objects.all().delete()
    Slot.objects.all().delete()
    made: list[Appointment] = []
    for number, (action, index, hour) in enumerate(steps):
        start = TUESDAY_10.replace(hour=hour)
        try:
            if action == "book" or not made:
                made.append(book(phone=f"1390000{number:04d}", start=start))
            elif action == "move":
                appointment_reschedule(appointment=made[index % len(made)], start=start)
            else:
                appointment_cancel(appointment=made[index % len(made)])
        except DomainError as error:
            assert error.code in {"slot_full", "same_slot", "not_allowed_in_status"}
    for slot in Slot.objects.all():
        held = Appointment.objects.filter(slot=slot, status__in=PLACE_HOLDING_STATUSES).count()
        assert slot.booked == held
        assert 0 <= slot.booked <= slot.capacity


def test_a_past_appointment_can_still_be_cancelled_by_the_dealer(book, advisor):
    from forecourt.core import clock

    appointment = book()
    with clock.frozen_at(datetime(2026, 11, 24, 12, 0, tzinfo=SHANGHAI)):
        appointment_cancel(appointment=appointment, actor=advisor)
    assert _booked(TUESDAY_10) == 0
