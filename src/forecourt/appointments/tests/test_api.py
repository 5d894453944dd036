"""The published API contract: slots, booking (201, 409 slot_full, 422 naming the field), my appointments."""

import pytest

from forecourt.appointments.models import Appointment, Slot
from forecourt.appointments.qr import qr_payload_read
from forecourt.appointments.services import appointment_cancel
from forecourt.core.models import Event, IdempotencyRecord

from .conftest import PHONE

pytestmark = pytest.mark.django_db

SLOTS = "/api/v1/dealers/{}/slots"
BOOK = "/api/v1/appointments"


def _body(the_dealer, the_model=None, **overrides):
    body = {
        "dealer": the_dealer.public_id,
        "kind": "test_drive",
        "start": "2026-11-24T10:00:00+08:00",
        "name": "张伟",
        "phone": PHONE,
        "consent": {"share_with_dealer": True},
    }
    if the_model is not None:
        body["model"] = the_model.code
    body.update(overrides)
    return body


def test_slots_list_start_end_and_remaining_in_shanghai_time(client, dealer, frozen, book):
    book()
    response = client.get(SLOTS.format(dealer.public_id), {"date": "2026-11-24", "kind": "test_drive"})
    assert response.status_code == 200
    slots = response.json()
    assert slots[0] == {
        "start": "2026-11-24T09:00:00+08:00",
        "end": "2026-11-24T10:00:00+08:00",
        "remaining": 2,
    }
    assert slots[1] == {
        "start": "2026-11-24T10:00:00+08:00",
        "end": "2026-11-24T11:00:00+08:00",
        "remaining": 1,
    }
    assert len(slots) == 9


def test_visit_slots(client, dealer, frozen):
    slots = client.get(SLOTS.format(dealer.public_id), {"date": "2026-11-24", "kind": "visit"}).json()
    assert (len(slots), slots[0]["remaining"], slots[0]["end"]) == (18, 3, "2026-11-24T09:30:00+08:00")


def test_slots_of_a_past_day_are_an_empty_list(client, dealer, frozen):
    response = client.get(SLOTS.format(dealer.public_id), {"date": "2026-11-20", "kind": "visit"})
    assert (response.status_code, response.json()) == (200, [])


def test_slots_of_an_unknown_dealer_are_404(client, frozen, db):
    response = client.get(SLOTS.format("dlr_NOPE"), {"date": "2026-11-24", "kind": "visit"})
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"date": "24/11/2026", "kind": "visit"}, "date"),
        ({"date": "2026-02-30", "kind": "visit"}, "date"),
        ({"kind": "visit"}, "date"),
        ({"date": "2026-11-24", "kind": "delivery"}, "kind"),
        ({"date": "2026-11-24"}, "kind"),
    ],
)
def test_bad_slot_queries_are_422_naming_the_field(client, dealer, frozen, query, field):
    response = client.get(SLOTS.format(dealer.public_id), query)
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == field


def test_the_dealers_own_routes_still_answer_beside_the_slots(client, dealer):
    response = client.get(f"/api/v1/dealers/{dealer.public_id}")
    assert (response.status_code, response.json()["id"]) == (200, dealer.public_id)


def test_booking_answers_201_with_id_code_and_qr(client, dealer, model, frozen):
    response = client.post(BOOK, _body(dealer, model), content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    appointment = Appointment.objects.get()
    assert body["id"] == appointment.public_id
    assert body["code"] == appointment.code
    assert qr_payload_read(body["qr"]) == (appointment.public_id, appointment.code)
    assert body["qr_svg_url"] == f"/appointments/{appointment.public_id}/qr.svg"
    assert (body["start"], body["end"]) == ("2026-11-24T10:00:00+08:00", "2026-11-24T11:00:00+08:00")
    assert body["dealer"]["id"] == dealer.public_id
    assert body["model"] == "aurora"
    assert body["lead_id"] == appointment.lead_id != ""
    assert appointment.channel == "api"


def test_booking_a_full_slot_answers_409_slot_full(client, dealer, model, frozen, book):
    book(phone="13800138001")
    book(phone="13800138002")
    before = (Appointment.objects.count(), Event.objects.count())
    response = client.post(BOOK, _body(dealer, model), content_type="application/json")
    assert response.status_code == 409
    assert response.json()["code"] == "slot_full"
    assert (Appointment.objects.count(), Event.objects.count()) == before
    assert Slot.objects.get(start="2026-11-24T10:00:00+08:00", kind="test_drive").booked == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"phone": "555-1234"}, "phone"),
        ({"start": "tomorrow"}, "start"),
        ({"start": "2026-11-24T10:15:00+08:00"}, "start"),
        ({"kind": "delivery"}, "kind"),
        ({"name": ""}, "name"),
        ({"consent": {"share_with_dealer": "yes"}}, "consent.share_with_dealer"),
        ({"consent": None}, "consent"),
    ],
)
def test_malformed_bookings_are_422_naming_the_field(client, dealer, model, frozen, overrides, field):
    response = client.post(BOOK, _body(dealer, model, **overrides), content_type="application/json")
    assert response.status_code == 422
    details = response.json()["details"]
    assert (details[0]["field"] if isinstance(details, list) else details["field"]).startswith(field)
    assert Appointment.objects.count() == 0


def test_a_missing_consent_is_422(client, dealer, model, frozen):
    body = _body(dealer, model)
    del body["consent"]
    response = client.post(BOOK, body, content_type="application/json")
    assert (response.status_code, response.json()["details"][0]["field"]) == (422, "consent")


def test_booking_an_unknown_dealer_or_model_is_404(client, dealer, model, frozen):
    unknown_dealer = client.post(
        BOOK, _body(dealer, model, dealer="dlr_NOPE"), content_type="application/json"
    )
    assert (unknown_dealer.status_code, unknown_dealer.json()["details"]["field"]) == (404, "dealer")
    unknown_model = client.post(BOOK, _body(dealer, model, model="nope"), content_type="application/json")
    assert (unknown_model.status_code, unknown_model.json()["details"]["field"]) == (404, "model")


def test_a_retry_with_the_same_idempotency_key_books_once(client, dealer, model, frozen):
    headers = {"HTTP_IDEMPOTENCY_KEY": "retry-1"}
    first = client.post(BOOK, _body(dealer, model), content_type="application/json", **headers)
    second = client.post(BOOK, _body(dealer, model), content_type="application/json", **headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] == second.json()["id"]
    assert Appointment.objects.count() == 1
    assert IdempotencyRecord.objects.filter(scope="appointment_book", key="retry-1").count() == 1


def test_bookings_are_rate_limited_per_phone(client, dealer, model, frozen):
    statuses = []
    for hour in range(9, 18):
        for minute in ("00", "30"):
            body = _body(dealer, model, kind="visit", start=f"2026-11-24T{hour:02d}:{minute}:00+08:00")
            statuses.append(client.post(BOOK, body, content_type="application/json").status_code)
    assert statuses[:10] == [201] * 10
    assert set(statuses[10:]) == {429}


def test_my_appointments_need_sign_in_and_show_only_mine(client, book, frozen):
    mine = book()
    book(phone="13900000001", start=mine.slot.start.replace(hour=11))
    assert client.get(f"{BOOK}/mine").status_code == 401
    client.force_login(mine.person)
    listed = client.get(f"{BOOK}/mine").json()
    assert [item["id"] for item in listed] == [mine.public_id]
    assert listed[0]["status_label"]


def test_a_consumer_reschedules_and_cancels_through_the_api(client, book, frozen):
    appointment = book()
    client.force_login(appointment.person)
    moved = client.post(
        f"{BOOK}/{appointment.public_id}/reschedule",
        {"start": "2026-11-24T15:00:00+08:00"},
        content_type="application/json",
    )
    assert (moved.status_code, moved.json()["start"]) == (200, "2026-11-24T15:00:00+08:00")
    cancelled = client.post(f"{BOOK}/{appointment.public_id}/cancel", {}, content_type="application/json")
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    again = client.post(f"{BOOK}/{appointment.public_id}/cancel", {}, content_type="application/json")
    assert (again.status_code, again.json()["code"]) == (409, "not_allowed_in_status")


def test_someone_elses_appointment_is_404_for_a_consumer(client, book, frozen):
    theirs = book()
    someone = book(phone="13900000001", start=theirs.slot.start.replace(hour=11)).person
    client.force_login(someone)
    for method, path in [
        ("get", f"{BOOK}/{theirs.public_id}"),
        ("post", f"{BOOK}/{theirs.public_id}/cancel"),
        ("post", f"{BOOK}/{theirs.public_id}/reschedule"),
    ]:
        body = {"start": "2026-11-24T15:00:00+08:00"}
        response = getattr(client, method)(path, body, content_type="application/json")
        assert response.status_code == 404, path
    theirs.refresh_from_db()
    assert theirs.status == "booked"
    assert not Event.objects.filter(name__in=["appointment.cancelled", "appointment.rescheduled"]).exists()


def test_a_cancelled_appointment_shows_as_cancelled(client, book, frozen):
    appointment = book()
    appointment_cancel(appointment=appointment)
    client.force_login(appointment.person)
    assert client.get(f"{BOOK}/{appointment.public_id}").json()["status"] == "cancelled"
