"""The referral mark: a broker's link opened in a browser rides to the lead and its events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpResponse
from django.test import Client, RequestFactory

from forecourt.core.middleware import DEVICE_COOKIE
from forecourt.core.models import Event
from forecourt.leads.models import Touchpoint
from forecourt.leads.referral_mark import REFERRAL_COOKIE, referral_mark_read, referral_mark_set
from forecourt.leads.tests.conftest import MONDAY_10, capture

HX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}
DEVICE = "dEv1cE0123456789abcd"


def _cookie_value(code: str, clicked_at) -> str:
    response = HttpResponse()
    referral_mark_set(response, broker_code=code, clicked_at=clicked_at, max_age=3600)
    return response.cookies[REFERRAL_COOKIE].value


def test_a_mark_reads_back_its_code_and_time():
    request = RequestFactory().get("/")
    request.COOKIES[REFERRAL_COOKIE] = _cookie_value("K7Q2M9XA", MONDAY_10)
    mark = referral_mark_read(request)
    assert mark is not None
    assert (mark.broker_code, mark.clicked_at) == ("K7Q2M9XA", MONDAY_10)


def test_the_cookie_is_http_only_and_lives_as_long_as_asked():
    response = HttpResponse()
    referral_mark_set(response, broker_code="K7Q2M9XA", clicked_at=MONDAY_10, max_age=30 * 86400)
    cookie = response.cookies[REFERRAL_COOKIE]
    assert cookie["httponly"] is True
    assert int(cookie["max-age"]) == 30 * 86400


def test_a_forged_or_altered_mark_is_ignored():
    genuine = _cookie_value("K7Q2M9XA", MONDAY_10)
    for forged in ("K7Q2M9XA.1795000000", genuine.replace("K7Q2M9XA", "BROKER02"), "garbage", ""):
        request = RequestFactory().get("/")
        request.COOKIES[REFERRAL_COOKIE] = forged
        assert referral_mark_read(request) is None


def test_a_broker_code_rides_on_the_lead_created_event_with_device_and_address(frozen, model, dealer):
    lead, created = capture(broker_code="K7Q2M9XA", broker_clicked_at=MONDAY_10 - timedelta(days=2))
    assert created
    payload = Event.objects.get(name="lead.created").payload
    assert payload["broker_code"] == "K7Q2M9XA"
    assert payload["broker_clicked_at"] == (MONDAY_10 - timedelta(days=2)).isoformat()
    assert payload["person"] == lead.person.public_id
    assert payload["model"] == "aurora"
    assert Touchpoint.objects.get().broker_code == "K7Q2M9XA"


def test_without_a_broker_code_the_event_carries_no_referral(frozen, model, dealer):
    capture()
    payload = Event.objects.get(name="lead.created").payload
    assert not {"broker_code", "broker_clicked_at", "device", "ip"} & set(payload)


def test_joining_an_open_lead_through_a_link_says_so_on_the_touchpoint_event(frozen, model, dealer):
    lead, _created = capture()
    capture(broker_code="K7Q2M9XA")
    payload = Event.objects.get(name="lead.touchpoint_added").payload
    assert payload["broker_code"] == "K7Q2M9XA"
    assert payload["broker_clicked_at"] is None
    assert (payload["lead_id"], payload["person"]) == (lead.public_id, lead.person.public_id)


def test_the_inquiry_form_credits_the_broker_whose_link_this_browser_opened(frozen, model, dealer):
    client = Client(REMOTE_ADDR="198.51.100.9")
    client.cookies[REFERRAL_COOKIE] = _cookie_value("K7Q2M9XA", MONDAY_10 - timedelta(hours=3))
    client.cookies[DEVICE_COOKIE] = DEVICE
    response = client.post(
        "/leads/inquiry/",
        {
            "model": "aurora",
            "channel": "web_price_inquiry",
            "name": "李娜",
            "phone": "13912345678",
            "city": "shanghai",
            "share_with_dealer": "on",
        },
        **HX,
    )
    assert response.status_code == 200
    payload = Event.objects.get(name="lead.created").payload
    assert payload["broker_code"] == "K7Q2M9XA"
    assert payload["broker_clicked_at"] == (MONDAY_10 - timedelta(hours=3)).isoformat()
    assert (payload["device"], payload["ip"]) == (DEVICE, "198.51.100.9")
