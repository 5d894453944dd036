"""Capturing inquiries: the person, dedupe into one open lead, touchpoints, consent and the OEM queue."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forecourt.accounts.models import Consent, User
from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.core.phones import InvalidPhone, phone_hash
from forecourt.leads.models import Lead, LeadStatus, RoutingDecision, Touchpoint
from forecourt.leads.tests.conftest import MONDAY_10, OTHER_PHONE, PHONE, capture, lead_events

pytestmark = pytest.mark.django_db


def test_first_inquiry_creates_a_person_a_lead_and_a_touchpoint(frozen, model, dealer):
    lead, created = capture(
        channel="web_price_inquiry",
        campaign="double11",
        source_site="autohome",
        broker_code="BRK42",
        utm={"utm_source": "autohome", "utm_medium": "cpc", "utm_campaign": "double11"},
        landing_page="/models/aurora/",
    )

    assert created is True
    assert lead.public_id.startswith("ld_")
    assert lead.status == LeadStatus.NEW
    assert lead.dealer == dealer
    assert lead.name == "张伟"
    assert lead.city is not None and lead.city.code == "shanghai"
    assert lead.model == model
    person = User.objects.get(pk=lead.person_id)
    assert person.phone_hash == phone_hash("+8613800138000")
    assert person.role == "consumer"
    touch = Touchpoint.objects.get(lead=lead)
    assert (touch.channel, touch.campaign, touch.source_site, touch.broker_code) == (
        "web_price_inquiry",
        "double11",
        "autohome",
        "BRK42",
    )
    assert touch.utm == {"utm_source": "autohome", "utm_medium": "cpc", "utm_campaign": "double11"}
    assert touch.landing_page == "/models/aurora/"
    assert touch.occurred_at == MONDAY_10
    assert (lead.first_channel, lead.first_campaign, lead.first_source_site, lead.first_broker_code) == (
        "web_price_inquiry",
        "double11",
        "autohome",
        "BRK42",
    )
    assert lead.touch_count == 1
    assert lead_events(lead) == ["lead.created", "lead.routed"]


def test_second_inquiry_from_the_same_phone_joins_the_open_lead(frozen, model, dealer):
    first, _created = capture(channel="web_price_inquiry", source_site="autohome")
    clock.advance(timedelta(hours=3))
    second, created = capture(
        phone="+86 138-0013-8000", channel="live_stream", campaign="launch-live", source_site="douyin"
    )

    assert created is False
    assert second.pk == first.pk
    assert Lead.objects.count() == 1
    assert Touchpoint.objects.filter(lead=first).count() == 2
    first.refresh_from_db()
    assert first.touch_count == 2
    assert (first.first_channel, first.first_source_site) == ("web_price_inquiry", "autohome")
    assert (first.last_channel, first.last_campaign, first.last_source_site) == (
        "live_stream",
        "launch-live",
        "douyin",
    )
    assert first.last_touch_at == MONDAY_10 + timedelta(hours=3)
    touches = list(
        Touchpoint.objects.filter(lead=first).order_by("occurred_at").values_list("channel", flat=True)
    )
    assert touches == ["web_price_inquiry", "live_stream"]
    assert lead_events(first) == ["lead.created", "lead.routed", "lead.touchpoint_added"]


def test_inquiry_for_another_model_opens_a_second_lead(frozen, model, other_model, dealer):
    first, _ = capture(model_code="aurora")
    second, created = capture(model_code="summit")

    assert created is True
    assert second.pk != first.pk
    assert second.person_id == first.person_id


def test_inquiry_after_the_lead_was_closed_opens_a_new_lead(frozen, model, dealer):
    first, _ = capture()
    Lead.objects.filter(pk=first.pk).update(status=LeadStatus.WON, won_at=MONDAY_10)

    second, created = capture()

    assert created is True
    assert second.pk != first.pk


def test_without_consent_the_lead_goes_to_the_oem_queue_and_no_dealer_sees_it(frozen, model, dealer):
    lead, created = capture(share_with_dealer=False)

    assert created is True
    assert lead.status == LeadStatus.OEM_QUEUE
    assert lead.dealer is None
    assert lead.oem_queue_reason == "no_consent"
    decision = RoutingDecision.objects.get(lead=lead)
    assert (decision.kind, decision.reason_code, decision.dealer) == ("oem_queue", "no_consent", None)
    assert lead_events(lead) == ["lead.created", "lead.sent_to_oem_queue"]
    assert Event.objects.filter(name__startswith="lead.", dealer_id=dealer.pk).count() == 0
    assert Consent.objects.filter(user_id=lead.person_id).count() == 0


def test_consent_is_recorded_when_given(frozen, model, dealer):
    lead, _ = capture(share_with_dealer=True, consent_method="web")

    consent = Consent.objects.get(user_id=lead.person_id, purpose="share_with_dealer")
    assert consent.withdrawn_at is None
    assert consent.method == "web"


def test_a_queued_lead_is_routed_once_the_person_consents(frozen, model, dealer):
    lead, _ = capture(share_with_dealer=False)
    joined, created = capture(share_with_dealer=True, channel="web_question")

    assert created is False
    joined.refresh_from_db()
    assert joined.pk == lead.pk
    assert joined.status == LeadStatus.NEW
    assert joined.dealer == dealer
    assert joined.sla_deadline == MONDAY_10 + timedelta(hours=2)
    assert list(RoutingDecision.objects.filter(lead=lead).values_list("kind", "reason_code")) == [
        ("oem_queue", "no_consent"),
        ("initial", "city_nearest_balanced"),
    ]


def test_an_earlier_active_consent_counts_for_a_later_inquiry(frozen, model, other_model, dealer):
    capture(model_code="aurora", share_with_dealer=True)
    lead, _ = capture(model_code="summit", share_with_dealer=False)

    assert lead.status == LeadStatus.NEW
    assert lead.dealer == dealer


@pytest.mark.parametrize(
    ("override", "code", "field"),
    [
        ({"city_code": "atlantis"}, "unknown_city", "city"),
        ({"model_code": "nope"}, "unknown_model", "model"),
        ({"dealer_public_id": "dlr_DOESNOTEXIST00"}, "unknown_dealer", "dealer"),
        ({"channel": "carrier_pigeon"}, "invalid_channel", "channel"),
        ({"name": "   "}, "invalid", "name"),
        ({"utm": {"utm_source": ["x"]}}, "invalid", "utm"),
        ({"utm": {"evil": "1"}}, "invalid", "utm.evil"),
        ({"campaign": "x" * 81}, "invalid", "campaign"),
    ],
)
def test_bad_references_are_refused_naming_the_field_and_nothing_is_stored(
    frozen, model, dealer, override, code, field
):
    with pytest.raises(DomainError) as caught:
        capture(**override)

    assert caught.value.status == 422
    assert caught.value.code == code
    assert caught.value.details[0]["field"] == field
    assert Lead.objects.count() == 0
    assert User.objects.filter(role="consumer").count() == 0
    assert Event.objects.count() == 0


def test_a_bad_phone_is_refused(frozen, model, dealer):
    with pytest.raises(InvalidPhone) as caught:
        capture(phone="12345")

    assert caught.value.code == "invalid_phone"
    assert Lead.objects.count() == 0


def test_two_people_get_two_leads(frozen, model, dealer):
    first, _ = capture(phone=PHONE)
    second, created = capture(phone=OTHER_PHONE, name="李娜")

    assert created is True
    assert first.person_id != second.person_id


def test_no_lead_row_holds_a_phone_number(frozen, model, dealer):
    lead, _ = capture()

    values = [str(value) for value in Lead.objects.filter(pk=lead.pk).values().get().values()]
    assert not any("13800138000" in value for value in values)
    touch_values = [str(value) for value in Touchpoint.objects.filter(lead=lead).values().get().values()]
    assert not any("13800138000" in value for value in touch_values)
