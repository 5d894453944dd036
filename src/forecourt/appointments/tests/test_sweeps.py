"""The sweeper: one reminder per appointment the day before; no-shows marked once."""

from datetime import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from forecourt.accounts.models import OutboxMessage
from forecourt.appointments.models import Appointment, AppointmentStatus
from forecourt.appointments.services import (
    appointment_cancel,
    appointment_check_in,
    appointment_no_shows_mark,
    appointment_reminders_send,
    appointment_reschedule,
)
from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.core.models import Event

from .conftest import TUESDAY_11

pytestmark = pytest.mark.django_db

WEDNESDAY_10 = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
# Tuesday evening: Wednesday 10:00 is within 24 hours, Tuesday's own appointments are past.
TUESDAY_EVENING = datetime(2026, 11, 24, 18, 30, tzinfo=SHANGHAI)


def _reminders() -> int:
    return OutboxMessage.objects.filter(purpose="appointment_reminder").count()


def test_the_reminder_is_sent_once_the_day_before(book, django_capture_on_commit_callbacks):
    appointment = book(start=WEDNESDAY_10)
    with clock.frozen_at(TUESDAY_EVENING), django_capture_on_commit_callbacks(execute=True):
        assert appointment_reminders_send() == 1
        assert appointment_reminders_send() == 0
    assert _reminders() == 1
    message = OutboxMessage.objects.get(purpose="appointment_reminder")
    assert appointment.code in message.text
    assert "2026-11-25 10:00" in message.text
    assert Appointment.objects.get(pk=appointment.pk).reminder_sent_at == TUESDAY_EVENING


def test_no_reminder_more_than_a_day_ahead(book, django_capture_on_commit_callbacks):
    book(start=WEDNESDAY_10)
    with (
        clock.frozen_at(datetime(2026, 11, 24, 9, 59, tzinfo=SHANGHAI)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert appointment_reminders_send() == 0
    assert _reminders() == 0


def test_no_reminder_when_booked_less_than_a_day_ahead(book, django_capture_on_commit_callbacks):
    # Booked on Monday 08:00 for Tuesday 10:00 would be 26 hours ahead; this one is for Monday 17:00.
    book(start=datetime(2026, 11, 23, 17, 0, tzinfo=SHANGHAI))
    with (
        clock.frozen_at(datetime(2026, 11, 23, 12, 0, tzinfo=SHANGHAI)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert appointment_reminders_send() == 0


def test_cancelled_and_checked_in_appointments_get_no_reminder(book, advisor):
    cancelled = book(start=WEDNESDAY_10, phone="13800138001")
    appointment_cancel(appointment=cancelled)
    arrived = book(start=WEDNESDAY_10, phone="13800138002")
    appointment_check_in(code_or_payload=arrived.code, staff=advisor)
    assert appointment_reminders_send(now=TUESDAY_EVENING) == 0


def test_a_rescheduled_appointment_is_reminded_again_for_its_new_time(book):
    appointment = book(start=WEDNESDAY_10)
    assert appointment_reminders_send(now=TUESDAY_EVENING) == 1
    appointment_reschedule(appointment=appointment, start=datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI))
    assert appointment_reminders_send(now=datetime(2026, 11, 26, 12, 0, tzinfo=SHANGHAI)) == 1


def test_no_shows_are_marked_once_after_the_grace_period(book, advisor):
    missed = book(phone="13800138001")
    arrived = book(phone="13800138002")
    appointment_check_in(code_or_payload=arrived.code, staff=advisor)
    # Tuesday 10:00–11:00 slot; grace of two hours ends at 13:00.
    assert appointment_no_shows_mark(now=datetime(2026, 11, 24, 12, 59, tzinfo=SHANGHAI)) == 0
    assert appointment_no_shows_mark(now=datetime(2026, 11, 24, 13, 1, tzinfo=SHANGHAI)) == 1
    assert appointment_no_shows_mark(now=datetime(2026, 11, 24, 13, 2, tzinfo=SHANGHAI)) == 0
    assert Appointment.objects.get(pk=missed.pk).status == AppointmentStatus.NO_SHOW
    assert Appointment.objects.get(pk=arrived.pk).status == AppointmentStatus.CHECKED_IN
    event = Event.objects.get(name="appointment.no_show")
    assert (event.subject_id, event.payload["lead_id"]) == (missed.public_id, missed.lead_id)


def test_the_sweep_command_runs_both(book, django_capture_on_commit_callbacks):
    book(start=WEDNESDAY_10)
    book(start=TUESDAY_11, phone="13800138003")
    out = StringIO()
    with clock.frozen_at(TUESDAY_EVENING), django_capture_on_commit_callbacks(execute=True):
        call_command("appointments_sweep", stdout=out)
        call_command("appointments_sweep", stdout=out)
    assert out.getvalue().splitlines() == [
        "Sent 1 reminder(s); marked 1 no-show(s).",
        "Sent 0 reminder(s); marked 0 no-show(s).",
    ]
    assert _reminders() == 1
