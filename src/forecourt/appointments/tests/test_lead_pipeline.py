"""The bridge to the leads app: the events appointments record move the lead's pipeline."""

from datetime import timedelta

import pytest

from forecourt.appointments.services import appointment_check_in, test_drive_finish, test_drive_start
from forecourt.core.models import Event
from forecourt.leads.models import Lead, LeadStatus, Touchpoint

pytestmark = pytest.mark.django_db


def test_booking_check_in_and_test_drive_move_the_lead_along(
    book, advisor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book()
    assert Lead.objects.get(public_id=appointment.lead_id).status == LeadStatus.VISIT_BOOKED
    with django_capture_on_commit_callbacks(execute=True):
        appointment_check_in(code_or_payload=appointment.code, staff=advisor)
    assert Lead.objects.get(public_id=appointment.lead_id).status == LeadStatus.VISITED
    with django_capture_on_commit_callbacks(execute=True):
        test_drive_start(appointment_public_id=appointment.public_id, staff=advisor, car="试驾车1")
        test_drive_finish(appointment_public_id=appointment.public_id, staff=advisor)
    assert Lead.objects.get(public_id=appointment.lead_id).status == LeadStatus.TEST_DRIVEN


def test_a_second_booking_by_the_same_person_joins_the_open_lead(book):
    first = book()
    second = book(start=first.slot.start.replace(hour=15))
    assert first.lead_id == second.lead_id
    assert Lead.objects.get(public_id=first.lead_id).touch_count == 2


def test_a_booking_carries_the_brokers_code_to_the_lead_it_captures(book, frozen):
    clicked = frozen - timedelta(days=1)
    appointment = book(broker_code="K7Q2M9XA", broker_clicked_at=clicked)
    payload = Event.objects.get(name="lead.created").payload
    assert payload["lead_id"] == appointment.lead_id
    assert (payload["broker_code"], payload["broker_clicked_at"]) == ("K7Q2M9XA", clicked.isoformat())
    assert Touchpoint.objects.get().broker_code == "K7Q2M9XA"
