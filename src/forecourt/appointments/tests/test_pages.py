"""Pages: booking with HTMX fragments, the confirmation with QR and code, my appointments, the workspace."""

from datetime import timedelta

import pytest
from django.http import HttpResponse
from django.utils import translation

from forecourt.appointments.models import Appointment, AppointmentStatus, Slot
from forecourt.appointments.qr import qr_payload
from forecourt.appointments.services import appointment_check_in, test_drive_start
from forecourt.core.models import Event
from forecourt.leads.referral_mark import REFERRAL_COOKIE, referral_mark_set

from .conftest import PHONE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def _form(dealer, model, **overrides):
    data = {
        "city": dealer.city.code,
        "dealer": dealer.public_id,
        "date": "2026-11-24",
        "start": "2026-11-24T10:00:00+08:00",
        "name": "张伟",
        "phone": PHONE,
        "model": model.code,
        "share_with_dealer": "on",
    }
    data.update(overrides)
    return data


def test_the_booking_page_offers_cities_with_test_drive_dealers(client, dealer, other_dealer, frozen):
    page = client.get("/test-drive/").content.decode()
    assert 'id="dealer"' in page and 'id="date"' in page and 'id="book-submit"' in page
    assert 'value="shanghai"' in page and 'value="hangzhou"' in page
    assert "预约试驾" in page


def test_the_booking_page_in_english(client, dealer, frozen):
    client.post("/i18n/setlang/", {"language": "en", "next": "/test-drive/"})
    with translation.override("en"):
        page = client.get("/test-drive/").content.decode()
    assert "Book a test drive" in page


def test_choosing_a_city_lists_its_dealers_and_empties_the_slots(client, dealer, frozen):
    fragment = client.get(
        "/test-drive/dealers/", {"city": "shanghai"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert dealer.public_id in fragment
    assert 'hx-swap-oob="true"' in fragment


def test_choosing_a_dealer_and_date_lists_slots_with_places_left(client, dealer, frozen, book):
    book()
    fragment = client.get(
        "/test-drive/slots/", {"dealer": dealer.public_id, "date": "2026-11-24"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert fragment.count('class="slot-option"') == 9
    assert 'value="2026-11-24T10:00:00+08:00"' in fragment
    assert "剩 1 个名额" in fragment or "1" in fragment


def test_a_full_slot_is_shown_disabled(client, dealer, frozen, book):
    book(phone="13800138001")
    book(phone="13800138002")
    fragment = client.get(
        "/test-drive/slots/", {"dealer": dealer.public_id, "date": "2026-11-24"}
    ).content.decode()
    assert "slot--full" in fragment
    assert fragment.count("disabled") == 1


def test_booking_through_the_page_redirects_to_the_confirmation_with_code_and_qr(
    client, dealer, model, frozen
):
    response = client.post("/test-drive/", _form(dealer, model))
    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/appointments/{appointment.public_id}/"
    page = client.get(response["Location"]).content.decode()
    assert f'id="appointment-code" class="appointment-code">{appointment.code}<' in page
    assert "<svg" in page
    assert appointment.channel == "web"


def test_the_qr_image_is_for_the_booking_browser_only(client, dealer, model, frozen):
    client.post("/test-drive/", _form(dealer, model))
    appointment = Appointment.objects.get()
    image = client.get(f"/appointments/{appointment.public_id}/qr.svg")
    assert image.status_code == 200
    assert image["Content-Type"] == "image/svg+xml"
    assert image["Cache-Control"].startswith("private")
    client.logout()
    client.cookies.clear()
    assert client.get(f"/appointments/{appointment.public_id}/qr.svg").status_code == 404
    assert client.get(f"/appointments/{appointment.public_id}/").status_code == 404


def test_a_signed_in_consumer_sees_their_appointment_from_any_browser(client, book, frozen):
    appointment = book()
    client.force_login(appointment.person)
    assert client.get(f"/appointments/{appointment.public_id}/").status_code == 200
    assert appointment.public_id in client.get("/appointments/mine/").content.decode()


def test_a_booking_error_re_renders_the_form_with_the_message(client, dealer, model, frozen, book):
    book(phone="13800138001")
    book(phone="13800138002")
    response = client.post("/test-drive/", _form(dealer, model))
    assert response.status_code == 409
    page = response.content.decode()
    assert 'data-code="slot_full"' in page
    assert 'value="张伟"' in page
    assert Appointment.objects.count() == 2


def test_a_bad_phone_is_reported_on_the_phone_field(client, dealer, model, frozen):
    response = client.post("/test-drive/", _form(dealer, model, phone="12345"))
    assert response.status_code == 422
    assert (
        'autocomplete="tel-national" placeholder="138 0013 8000" aria-invalid="true"'
        in response.content.decode()
    )
    assert Appointment.objects.count() == 0


def test_a_visit_is_booked_on_the_visit_page(client, dealer, model, frozen):
    response = client.post("/visit/", _form(dealer, model, start="2026-11-24T10:30:00+08:00"))
    assert response.status_code == 302
    assert Appointment.objects.get().kind == "visit"


def test_the_consumer_reschedules_and_cancels_on_the_pages(client, dealer, model, frozen):
    client.post("/test-drive/", _form(dealer, model))
    appointment = Appointment.objects.get()
    page = client.get(f"/appointments/{appointment.public_id}/reschedule/")
    assert page.status_code == 200 and "slot-option" in page.content.decode()
    moved = client.post(
        f"/appointments/{appointment.public_id}/reschedule/", {"start": "2026-11-24T14:00:00+08:00"}
    )
    assert moved.status_code == 302
    appointment.refresh_from_db()
    assert appointment.slot.start.hour == 6  # 14:00 in Shanghai is 06:00 UTC
    client.post(f"/appointments/{appointment.public_id}/cancel/")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert set(Slot.objects.values_list("booked", flat=True)) == {0}


def test_the_workspace_day_lists_todays_appointments(client, book, advisor, frozen):
    appointment = book()
    client.force_login(advisor)
    page = client.get("/workspace/appointments/", {"date": "2026-11-24"}).content.decode()
    assert appointment.public_id in page
    assert "138****8000" in page
    assert appointment.code not in page


def test_check_in_by_code_on_the_workspace_page_shows_who_and_when(client, book, advisor, frozen):
    appointment = book()
    client.force_login(advisor)
    page = client.get("/workspace/check-in/").content.decode()
    assert 'id="check-in-code"' in page and 'id="check-in-submit"' in page and "vendor/jsqr/jsQR.js" in page
    fragment = client.post("/workspace/check-in/", {"code": appointment.code}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    text = fragment.content.decode()
    assert 'id="check-in-ok"' in text
    assert str(advisor) in text
    again = client.post(
        "/workspace/check-in/", {"code": appointment.code}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'id="check-in-error"' in again


def test_check_in_by_scanned_payload_on_the_page(client, book, advisor, frozen):
    appointment = book()
    client.force_login(advisor)
    payload = qr_payload(public_id=appointment.public_id, code=appointment.code)
    response = client.post("/workspace/check-in/", {"payload": payload})
    assert response.status_code == 200
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.CHECKED_IN
    forged = client.post("/workspace/check-in/", {"payload": payload[:-2] + "xx"})
    assert forged.status_code == 422
    assert 'data-code="invalid_qr"' in forged.content.decode()


def test_test_drive_start_and_finish_buttons(client, book, advisor, frozen):
    appointment = book()
    appointment_check_in(code_or_payload=appointment.code, staff=advisor)
    client.force_login(advisor)
    day = client.get("/workspace/appointments/", {"date": "2026-11-24"}).content.decode()
    assert "test-drive-start" in day
    client.post(f"/workspace/appointments/{appointment.public_id}/test-drive/start/", {"car": "试驾车1"})
    day = client.get("/workspace/appointments/", {"date": "2026-11-24"}).content.decode()
    assert "test-drive-finish" in day
    client.post(f"/workspace/appointments/{appointment.public_id}/test-drive/finish/")
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.COMPLETED
    assert Event.objects.filter(name="test_drive.finished").count() == 1


def test_the_dealer_moves_and_cancels_on_the_workspace(client, book, advisor, frozen):
    appointment = book()
    client.force_login(advisor)
    assert client.get(f"/workspace/appointments/{appointment.public_id}/reschedule/").status_code == 200
    client.post(
        f"/workspace/appointments/{appointment.public_id}/reschedule/", {"start": "2026-11-24T16:00:00+08:00"}
    )
    assert Event.objects.get(name="appointment.rescheduled").payload["by"] == "dealer"
    client.post(f"/workspace/appointments/{appointment.public_id}/cancel/")
    assert Appointment.objects.get(pk=appointment.pk).cancelled_by_dealer is True


def test_a_visitor_is_sent_to_sign_in_from_the_workspace(client, db):
    response = client.get("/workspace/appointments/")
    assert response.status_code == 302
    assert "/account/sign-in/" in response["Location"]


def test_a_started_test_drive_shows_on_the_day(client, book, advisor, frozen):
    appointment = book()
    appointment_check_in(code_or_payload=appointment.code, staff=advisor)
    test_drive_start(appointment_public_id=appointment.public_id, staff=advisor, car="LFV0000000001")
    client.force_login(advisor)
    assert "LFV0000000001" in client.get("/workspace/appointments/", {"date": "2026-11-24"}).content.decode()


def test_booking_in_a_browser_that_opened_a_brokers_link_credits_the_broker(client, dealer, model, frozen):
    marked = HttpResponse()
    referral_mark_set(marked, broker_code="K7Q2M9XA", clicked_at=frozen - timedelta(days=3), max_age=86400)
    client.cookies[REFERRAL_COOKIE] = marked.cookies[REFERRAL_COOKIE].value
    response = client.post("/test-drive/", _form(dealer, model))
    assert response.status_code == 302
    payload = Event.objects.get(name="lead.created").payload
    assert payload["broker_code"] == "K7Q2M9XA"
    assert payload["broker_clicked_at"] == (frozen - timedelta(days=3)).isoformat()
    assert payload["device"]


def test_booking_without_a_brokers_link_credits_nobody(client, dealer, model, frozen):
    client.post("/test-drive/", _form(dealer, model))
    assert "broker_code" not in Event.objects.get(name="lead.created").payload
