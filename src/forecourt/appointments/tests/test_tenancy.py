"""Every dealer endpoint and page, tried with another dealer's appointment: 404, nothing changed, no event."""

import pytest

from forecourt.appointments.models import Appointment, Slot, TestDriveLog
from forecourt.appointments.qr import qr_payload
from forecourt.appointments.services import appointment_check_in, test_drive_start
from forecourt.core.models import Event

pytestmark = pytest.mark.django_db

API = "/api/v1/workspace"


@pytest.fixture
def theirs(book, advisor):
    """An appointment at `dealer`, checked in and with a test drive running, so every action applies."""
    appointment = book()
    appointment_check_in(code_or_payload=appointment.code, staff=advisor)
    test_drive_start(appointment_public_id=appointment.public_id, staff=advisor, car="试驾车1")
    return appointment


@pytest.fixture
def booked_theirs(book):
    return book(phone="13800138005")


def _state():
    return (
        list(
            Appointment.objects.order_by("pk").values_list(
                "status", "slot_id", "checked_in_at", "cancelled_at"
            )
        ),
        list(Slot.objects.order_by("pk").values_list("booked", flat=True)),
        list(TestDriveLog.objects.order_by("pk").values_list("finished_at", "car")),
        Event.objects.count(),
    )


def _api_attempts(appointment):
    pid = appointment.public_id
    return [
        ("get", f"{API}/appointments/{pid}", None),
        ("post", f"{API}/appointments/{pid}/test-drive/start", {"car": "试驾车9"}),
        ("post", f"{API}/appointments/{pid}/test-drive/finish", {}),
        ("post", f"{API}/appointments/{pid}/reschedule", {"start": "2026-11-24T15:00:00+08:00"}),
        ("post", f"{API}/appointments/{pid}/cancel", {}),
        ("post", f"{API}/check-in", {"code": appointment.code}),
        ("post", f"{API}/check-in", {"payload": qr_payload(public_id=pid, code=appointment.code)}),
    ]


def test_workspace_api_with_another_dealers_appointments_is_404_and_changes_nothing(
    client, theirs, booked_theirs, other_advisor
):
    client.force_login(other_advisor)
    before = _state()
    for appointment in (theirs, booked_theirs):
        for method, path, body in _api_attempts(appointment):
            if method == "get":
                response = client.get(path)
            else:
                response = client.post(path, body, content_type="application/json")
            assert response.status_code == 404, (path, body, response.content)
            assert response.json()["code"] == "not_found"
    assert _state() == before


def test_the_days_list_shows_only_the_own_dealers_appointments(client, theirs, other_advisor, advisor):
    client.force_login(other_advisor)
    assert client.get(f"{API}/appointments", {"date": "2026-11-24"}).json() == []
    client.force_login(advisor)
    listed = client.get(f"{API}/appointments", {"date": "2026-11-24"}).json()
    assert [item["id"] for item in listed] == [theirs.public_id]
    assert listed[0]["phone"] == "138****8000"
    assert listed[0]["test_drive"]["car"] == "试驾车1"
    assert "code" not in listed[0]


def test_workspace_pages_with_another_dealers_appointments_are_404_and_change_nothing(
    client, theirs, booked_theirs, other_advisor
):
    client.force_login(other_advisor)
    before = _state()
    for appointment in (theirs, booked_theirs):
        pid = appointment.public_id
        for path, body in [
            (f"/workspace/appointments/{pid}/test-drive/start/", {"car": "试驾车9"}),
            (f"/workspace/appointments/{pid}/test-drive/finish/", {}),
            (f"/workspace/appointments/{pid}/cancel/", {}),
            (f"/workspace/appointments/{pid}/reschedule/", {"start": "2026-11-24T15:00:00+08:00"}),
        ]:
            assert client.post(path, body).status_code == 404, path
        assert client.get(f"/workspace/appointments/{pid}/reschedule/").status_code == 404
        for body in (
            {"code": appointment.code},
            {"payload": qr_payload(public_id=pid, code=appointment.code)},
        ):
            response = client.post("/workspace/check-in/", body)
            assert response.status_code == 404
    page = client.get("/workspace/appointments/", {"date": "2026-11-24"})
    assert theirs.public_id not in page.content.decode()
    assert _state() == before


def test_the_workspace_is_for_dealer_staff_only(client, theirs):
    assert client.get(f"{API}/appointments").status_code == 401
    client.force_login(theirs.person)
    assert client.get(f"{API}/appointments").status_code == 403
    assert (
        client.post(f"{API}/check-in", {"code": theirs.code}, content_type="application/json").status_code
        == 403
    )
    assert client.get("/workspace/appointments/").status_code == 403
    assert client.get("/workspace/check-in/").status_code == 403


def test_a_consumer_cannot_see_another_persons_appointment_pages(client, theirs, booked_theirs):
    client.force_login(booked_theirs.person)
    for path in (f"/appointments/{theirs.public_id}/", f"/appointments/{theirs.public_id}/qr.svg"):
        assert client.get(path).status_code == 404
    assert client.post(f"/appointments/{theirs.public_id}/cancel/").status_code == 404
    assert Appointment.objects.get(pk=theirs.pk).status == "checked_in"
