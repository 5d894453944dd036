"""Booking: one place taken by a conditional update, the appointment, the lead, the event, the SMS."""

from datetime import datetime

import pytest

from forecourt.accounts.models import Consent, OutboxMessage, User
from forecourt.appointments.models import Appointment, AppointmentKind, AppointmentStatus, Slot
from forecourt.core.clock import SHANGHAI
from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.core.phones import phone_hash
from forecourt.dealers.tests.factories import DealerFactory
from forecourt.leads.models import Lead

from .conftest import HOURS, PHONE, TUESDAY_10

pytestmark = pytest.mark.django_db


def test_booking_takes_one_place_and_creates_the_appointment(book, dealer, model):
    appointment = book()
    slot = Slot.objects.get(dealer=dealer, kind=AppointmentKind.TEST_DRIVE, start=TUESDAY_10)
    assert (slot.booked, slot.capacity) == (1, 2)
    assert appointment.public_id.startswith("ap_")
    assert len(appointment.code) == 6
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.slot == slot
    assert appointment.model == model
    assert appointment.name == "张伟"


def test_the_person_is_found_by_phone_hash_and_no_plain_number_is_stored(book):
    appointment = book(phone="138-0013-8000")
    person = User.objects.get(phone_hash=phone_hash("+8613800138000"))
    assert appointment.person == person
    stored = {field.name: getattr(appointment, field.name) for field in Appointment._meta.concrete_fields}
    assert not any("13800138000" in str(value) for value in stored.values())


def test_booking_captures_a_lead_and_records_the_event_with_its_id(book, dealer):
    appointment = book()
    lead = Lead.objects.get()
    assert appointment.lead_id == lead.public_id
    assert lead.dealer == dealer
    event = Event.objects.get(name="appointment.booked")
    assert event.subject_id == appointment.public_id
    assert event.dealer_id == dealer.pk
    assert event.payload["lead_id"] == lead.public_id
    assert event.payload["appointment_id"] == appointment.public_id
    assert event.payload["start"] == "2026-11-24T10:00:00+08:00"
    assert event.payload["kind"] == "test_drive"


def test_without_consent_the_lead_stays_with_the_oem(book):
    appointment = book(share_with_dealer=False)
    lead = Lead.objects.get(public_id=appointment.lead_id)
    assert lead.dealer is None
    assert not Consent.objects.filter(purpose="share_with_dealer").exists()


def test_a_booking_without_a_model_opens_no_lead_but_keeps_the_consent(book):
    appointment = book(model_code=None, kind=AppointmentKind.VISIT)
    assert appointment.lead_id == ""
    assert Lead.objects.count() == 0
    assert Consent.objects.filter(
        user=appointment.person, purpose="share_with_dealer", withdrawn_at=None
    ).exists()
    assert Event.objects.get(name="appointment.booked").payload["lead_id"] == ""


def test_confirmation_sms_goes_to_the_outbox_after_commit(book, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book()
    message = OutboxMessage.objects.get(purpose="appointment_confirmation")
    assert message.phone_hash == phone_hash("+8613800138000")
    assert appointment.code in message.text
    assert "2026-11-24 10:00" in message.text
    assert "13800138000" not in message.text


def test_a_full_slot_answers_slot_full_and_writes_nothing(book):
    book(phone="13800138001")
    book(phone="13800138002")
    counts = (Appointment.objects.count(), Event.objects.count(), Lead.objects.count(), User.objects.count())
    with pytest.raises(DomainError) as raised:
        book(phone=PHONE)
    assert (raised.value.code, raised.value.status) == ("slot_full", 409)
    assert Slot.objects.get(start=TUESDAY_10).booked == 2
    assert (
        Appointment.objects.count(),
        Event.objects.count(),
        Lead.objects.count(),
        User.objects.count(),
    ) == counts


def test_the_counter_can_never_pass_capacity_even_by_a_direct_update(book):
    from django.db import IntegrityError, transaction
    from django.db.models import F

    book(phone="13800138001")
    book(phone="13800138002")
    with pytest.raises(IntegrityError), transaction.atomic():
        Slot.objects.filter(start=TUESDAY_10).update(booked=F("booked") + 1)


def test_test_drives_need_a_dealer_that_offers_them(db, frozen, model):
    store = DealerFactory.create(experience_store=True, opening_hours=HOURS, offers_test_drive=False)
    from forecourt.appointments.services import appointment_book

    with pytest.raises(DomainError) as raised:
        appointment_book(
            dealer_public_id=store.public_id,
            kind="test_drive",
            start=TUESDAY_10,
            name="张伟",
            phone=PHONE,
            model_code=model.code,
            share_with_dealer=True,
        )
    assert (raised.value.code, raised.value.status) == ("kind_not_offered", 409)
    assert Slot.objects.count() == 0
    visit = appointment_book(
        dealer_public_id=store.public_id,
        kind="visit",
        start=TUESDAY_10,
        name="张伟",
        phone=PHONE,
        model_code=model.code,
        share_with_dealer=True,
    )
    assert visit.kind == "visit"


@pytest.mark.parametrize(
    ("overrides", "code", "status", "field"),
    [
        ({"dealer_public_id": "dlr_UNKNOWN"}, "not_found", 404, "dealer"),
        ({"model_code": "no-such-model"}, "not_found", 404, "model"),
        ({"kind": "delivery"}, "invalid", 422, "kind"),
        ({"name": "   "}, "invalid", 422, "name"),
        ({"phone": "12345"}, "invalid_phone", 422, "phone"),
        ({"start": datetime(2026, 11, 22, 10, 0, tzinfo=SHANGHAI)}, "slot_in_past", 422, "start"),
        ({"start": datetime(2026, 11, 24, 10, 20, tzinfo=SHANGHAI)}, "not_a_slot", 422, "start"),
        ({"start": datetime(2026, 11, 24, 20, 0, tzinfo=SHANGHAI)}, "not_a_slot", 422, "start"),
        ({"start": datetime(2027, 3, 2, 10, 0, tzinfo=SHANGHAI)}, "outside_booking_window", 422, "start"),
    ],
)
def test_invalid_bookings_are_refused_with_a_clear_error_and_nothing_written(
    book, overrides, code, status, field
):
    with pytest.raises(DomainError) as raised:
        book(**overrides)
    error = raised.value
    assert (error.code, error.status) == (code, status)
    details = error.details[0] if isinstance(error.details, list) else error.details
    assert details["field"] == field
    assert Appointment.objects.count() == 0
    assert Event.objects.filter(name__startswith="appointment.").count() == 0
    assert not Slot.objects.filter(booked__gt=0).exists()


def test_an_inactive_dealer_is_not_found(book, dealer):
    dealer.is_active = False
    dealer.save()
    with pytest.raises(DomainError) as raised:
        book()
    assert raised.value.status == 404


def test_short_codes_are_unique_among_live_appointments(book, monkeypatch):
    from forecourt.appointments.services import booking

    codes = iter(["AAAAAA", "AAAAAA", "BBBBBB"])
    monkeypatch.setattr(booking, "short_code", lambda length: next(codes))
    first = book(phone="13800138001")
    second = book(phone="13800138002")
    assert (first.code, second.code) == ("AAAAAA", "BBBBBB")
