"""At the store: check-in by short code or signed QR payload, exactly once; test-drive start and finish."""

from datetime import datetime, timedelta

import pytest

from forecourt.appointments.models import AppointmentStatus, TestDriveLog
from forecourt.appointments.qr import qr_payload, qr_payload_read
from forecourt.appointments.services import (
    appointment_cancel,
    appointment_check_in,
    test_drive_finish,
    test_drive_start,
)
from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.core.qrcodes import qr_svg

pytestmark = pytest.mark.django_db

ARRIVAL = datetime(2026, 11, 24, 9, 50, tzinfo=SHANGHAI)


def _payload(appointment) -> str:
    return qr_payload(public_id=appointment.public_id, code=appointment.code)


def test_check_in_by_short_code(book, advisor):
    appointment = book()
    with clock.frozen_at(ARRIVAL):
        checked = appointment_check_in(code_or_payload=appointment.code, staff=advisor)
    assert checked.status == AppointmentStatus.CHECKED_IN
    assert (checked.checked_in_at, checked.checked_in_by) == (ARRIVAL, advisor)
    event = Event.objects.get(name="visit.checked_in")
    assert event.subject_id == appointment.public_id
    assert event.dealer_id == appointment.dealer_id
    assert event.actor == advisor
    assert event.payload["lead_id"] == appointment.lead_id
    assert event.payload["method"] == "code"
    assert event.payload["minutes_before_start"] == 10


def test_a_typed_code_forgives_case_spaces_and_look_alike_letters(book, advisor):
    appointment = book()
    typed = appointment.code.lower().replace("0", "o").replace("1", "l")
    typed = f" {typed[:3]} {typed[3:]} "
    assert appointment_check_in(code_or_payload=typed, staff=advisor).status == AppointmentStatus.CHECKED_IN


def test_check_in_by_the_signed_qr_payload(book, advisor):
    appointment = book()
    checked = appointment_check_in(code_or_payload=_payload(appointment), staff=advisor)
    assert checked.status == AppointmentStatus.CHECKED_IN
    assert Event.objects.get(name="visit.checked_in").payload["method"] == "qr"


def test_the_qr_payload_carries_the_id_and_code_and_renders_as_svg(book):
    appointment = book()
    payload = _payload(appointment)
    assert qr_payload_read(payload) == (appointment.public_id, appointment.code)
    assert qr_svg(payload).startswith("<svg")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda payload, code: payload.replace(code, "ZZZZZZ"),
        lambda payload, code: payload[:-3] + ("AAA" if not payload.endswith("AAA") else "BBB"),
        lambda payload, code: payload.split(":")[0],
        lambda payload, code: payload.split(":")[0] + ":" + "x" * 43,
    ],
    ids=["altered-code", "altered-signature", "unsigned", "forged-signature"],
)
def test_an_altered_or_forged_payload_is_rejected_and_nothing_changes(book, advisor, tamper):
    appointment = book()
    with pytest.raises(DomainError) as raised:
        appointment_check_in(code_or_payload=tamper(_payload(appointment), appointment.code), staff=advisor)
    assert (raised.value.code, raised.value.status) == ("invalid_qr", 422)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    assert not Event.objects.filter(name="visit.checked_in").exists()


def test_a_payload_signed_with_another_key_is_rejected(book, advisor, settings):
    appointment = book()
    settings.QR_SIGNING_KEY = "someone-elses-key"
    forged = _payload(appointment)
    settings.QR_SIGNING_KEY = "the-real-key"
    with pytest.raises(DomainError) as raised:
        appointment_check_in(code_or_payload=forged, staff=advisor)
    assert raised.value.code == "invalid_qr"


def test_check_in_happens_exactly_once(book, advisor, dealer):
    appointment = book()
    first_advisor = advisor
    second_advisor = dealer.staff.exclude(pk=advisor.pk).filter(role="sales_advisor").first()
    with clock.frozen_at(ARRIVAL):
        appointment_check_in(code_or_payload=appointment.code, staff=first_advisor)
    with pytest.raises(DomainError) as raised:
        appointment_check_in(code_or_payload=_payload(appointment), staff=second_advisor)
    assert (raised.value.code, raised.value.status) == ("already_checked_in", 409)
    assert raised.value.details == {
        "checked_in_at": "2026-11-24T09:50:00+08:00",
        "checked_in_by": str(first_advisor),
    }
    appointment.refresh_from_db()
    assert appointment.checked_in_by == first_advisor
    assert Event.objects.filter(name="visit.checked_in").count() == 1


def test_another_dealers_appointment_is_not_found_and_nothing_changes(book, other_advisor):
    appointment = book()
    for attempt in (appointment.code, _payload(appointment)):
        with pytest.raises(DomainError) as raised:
            appointment_check_in(code_or_payload=attempt, staff=other_advisor)
        assert (raised.value.code, raised.value.status) == ("not_found", 404)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    assert not Event.objects.filter(name="visit.checked_in").exists()


def test_a_cancelled_appointments_code_no_longer_checks_in(book, advisor):
    appointment = book()
    appointment_cancel(appointment=appointment)
    with pytest.raises(DomainError) as by_code:
        appointment_check_in(code_or_payload=appointment.code, staff=advisor)
    assert by_code.value.status == 404
    with pytest.raises(DomainError) as by_qr:
        appointment_check_in(code_or_payload=_payload(appointment), staff=advisor)
    assert (by_qr.value.code, by_qr.value.status) == ("not_allowed_in_status", 409)
    assert not Event.objects.filter(name="visit.checked_in").exists()


def test_only_dealer_staff_may_check_in(book):
    appointment = book()
    with pytest.raises(DomainError) as raised:
        appointment_check_in(code_or_payload=appointment.code, staff=appointment.person)
    assert raised.value.status == 403
    with pytest.raises(DomainError) as empty:
        appointment_check_in(code_or_payload="  ", staff=None)
    assert empty.value.status == 403


def test_an_empty_code_is_a_422(book, advisor):
    with pytest.raises(DomainError) as raised:
        appointment_check_in(code_or_payload="  ", staff=advisor)
    assert (raised.value.status, raised.value.details[0]["field"]) == (422, "code")


def test_a_test_drive_is_logged_from_start_to_finish(book, advisor):
    appointment = book()
    appointment_check_in(code_or_payload=appointment.code, staff=advisor)
    with clock.frozen_at(datetime(2026, 11, 24, 10, 2, tzinfo=SHANGHAI)):
        log = test_drive_start(
            appointment_public_id=appointment.public_id, staff=advisor, car="LFV2A21K8M3000001"
        )
    with clock.frozen_at(datetime(2026, 11, 24, 10, 40, 30, tzinfo=SHANGHAI)):
        finished = test_drive_finish(appointment_public_id=appointment.public_id, staff=advisor)
    assert finished.pk == log.pk
    assert (finished.car, finished.advisor) == ("LFV2A21K8M3000001", advisor)
    assert finished.duration_seconds == 38 * 60 + 30
    assert finished.duration == timedelta(minutes=38, seconds=30)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.COMPLETED
    started, ended = (
        Event.objects.get(name="test_drive.started"),
        Event.objects.get(name="test_drive.finished"),
    )
    assert started.payload["car"] == "LFV2A21K8M3000001"
    assert ended.payload["duration_seconds"] == 2310
    assert ended.payload["lead_id"] == appointment.lead_id
    assert ended.payload["advisor"] == advisor.public_id


def test_the_advisor_may_be_another_staff_member_of_the_same_store(book, advisor, dealer, other_advisor):
    appointment = book()
    appointment_check_in(code_or_payload=appointment.code, staff=advisor)
    colleague = dealer.staff.exclude(pk=advisor.pk).filter(role="sales_advisor").first()
    with pytest.raises(DomainError) as raised:
        test_drive_start(
            appointment_public_id=appointment.public_id, staff=advisor, car="试驾车1", advisor=other_advisor
        )
    assert raised.value.details[0]["field"] == "advisor"
    log = test_drive_start(
        appointment_public_id=appointment.public_id, staff=advisor, car="试驾车1", advisor=colleague
    )
    assert log.advisor == colleague


def test_a_test_drive_needs_a_checked_in_test_drive_appointment(book, advisor):
    appointment = book()
    with pytest.raises(DomainError) as not_checked_in:
        test_drive_start(appointment_public_id=appointment.public_id, staff=advisor, car="试驾车1")
    assert (not_checked_in.value.code, not_checked_in.value.status) == ("not_checked_in", 409)
    visit = book(kind="visit", phone="13800138009")
    appointment_check_in(code_or_payload=visit.code, staff=advisor)
    with pytest.raises(DomainError) as not_a_drive:
        test_drive_start(appointment_public_id=visit.public_id, staff=advisor, car="试驾车1")
    assert not_a_drive.value.code == "not_a_test_drive"
    assert TestDriveLog.objects.count() == 0
    assert not Event.objects.filter(name="test_drive.started").exists()


def test_a_test_drive_starts_and_finishes_once(book, advisor):
    appointment = book()
    appointment_check_in(code_or_payload=appointment.code, staff=advisor)
    with pytest.raises(DomainError) as not_started:
        test_drive_finish(appointment_public_id=appointment.public_id, staff=advisor)
    assert not_started.value.code == "test_drive_not_started"
    test_drive_start(appointment_public_id=appointment.public_id, staff=advisor, car="试驾车1")
    with pytest.raises(DomainError) as again:
        test_drive_start(appointment_public_id=appointment.public_id, staff=advisor, car="试驾车2")
    assert again.value.code == "test_drive_already_started"
    test_drive_finish(appointment_public_id=appointment.public_id, staff=advisor)
    with pytest.raises(DomainError) as finished:
        test_drive_finish(appointment_public_id=appointment.public_id, staff=advisor)
    assert finished.value.code == "test_drive_already_finished"
    assert Event.objects.filter(name__startswith="test_drive.").count() == 2


def test_the_car_is_required(book, advisor):
    appointment = book()
    appointment_check_in(code_or_payload=appointment.code, staff=advisor)
    with pytest.raises(DomainError) as raised:
        test_drive_start(appointment_public_id=appointment.public_id, staff=advisor, car="  ")
    assert raised.value.details[0]["field"] == "car"


def test_another_dealers_staff_cannot_start_or_finish_a_test_drive(book, advisor, other_advisor):
    appointment = book()
    appointment_check_in(code_or_payload=appointment.code, staff=advisor)
    with pytest.raises(DomainError) as start:
        test_drive_start(appointment_public_id=appointment.public_id, staff=other_advisor, car="试驾车1")
    assert start.value.status == 404
    test_drive_start(appointment_public_id=appointment.public_id, staff=advisor, car="试驾车1")
    with pytest.raises(DomainError) as finish:
        test_drive_finish(appointment_public_id=appointment.public_id, staff=other_advisor)
    assert finish.value.status == 404
    assert TestDriveLog.objects.get().finished_at is None
    assert not Event.objects.filter(name="test_drive.finished").exists()
