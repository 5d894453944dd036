"""Attribution: a lead that came by a broker's link within the window is credited to that broker; the first
valid broker wins; one level only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forecourt.core import clock
from forecourt.leads.models import Lead
from forecourt.referrals.models import BrokerStatus, Commission, Referral, ReferralClick, Stage
from forecourt.referrals.selectors import referral_for_lead
from forecourt.referrals.services import referral_attribute, referral_click_record, referral_qualify

from .referrals_cast import *  # noqa: F403
from .referrals_cast import FRIEND_PHONE, capture, consumer, make_broker, referral_events

pytestmark = pytest.mark.django_db


def test_a_lead_from_a_broker_link_is_credited_to_the_broker(frozen, dealer, model, broker):
    clicked = clock.now() - timedelta(days=2)

    lead, created = capture(broker_code=broker.code, broker_clicked_at=clicked)

    referral = Referral.objects.get()
    assert created is True
    assert (
        referral.broker_id,
        referral.person_id,
        referral.lead_public_id,
        referral.model_code,
        referral.city.code if referral.city else None,
        referral.stage,
        referral.clicked_at,
        referral.referred_at,
        referral.flags,
    ) == (
        broker.pk,
        lead.person_id,
        lead.public_id,
        "aurora",
        "shanghai",
        Stage.REFERRED,
        clicked,
        frozen,
        [],
    )
    assert referral_events(referral) == ["referral.created"]
    assert referral_for_lead(lead.public_id) == referral


def test_the_referral_created_event_names_the_broker_the_person_and_the_lead(frozen, dealer, model, broker):
    lead, _created = capture(broker_code=broker.code.lower())

    referral = Referral.objects.get()
    from forecourt.core.models import Event

    payload = Event.objects.get(name="referral.created").payload
    assert payload == {
        "referral": referral.public_id,
        "broker": broker.user.public_id,
        "broker_code": broker.code,
        "person": lead.person.public_id,
        "lead_id": lead.public_id,
        "model": "aurora",
        "city": "shanghai",
        "campaign": "",
        "stage": "referred",
        "flagged": False,
    }


def test_a_lead_without_a_broker_code_is_nobodys_referral(frozen, dealer, model, broker):
    capture()

    assert Referral.objects.count() == 0
    assert referral_for_lead(Lead.objects.get().public_id) is None


@pytest.mark.parametrize("code", ["NOSUCH01", "", "x" * 41, "../../etc"])
def test_an_unknown_broker_code_credits_nobody(frozen, dealer, model, broker, code):
    capture(broker_code=code[:40])

    assert Referral.objects.count() == 0


def test_a_suspended_brokers_link_credits_nobody(frozen, dealer, model, broker):
    broker.status = BrokerStatus.SUSPENDED
    broker.save(update_fields=["status"])

    capture(broker_code=broker.code)

    assert Referral.objects.count() == 0


def test_a_click_older_than_the_window_is_not_credited(frozen, dealer, model, broker, settings):
    settings.REFERRALS_ATTRIBUTION_DAYS = 30

    capture(broker_code=broker.code, broker_clicked_at=clock.now() - timedelta(days=30, seconds=1))

    assert Referral.objects.count() == 0


def test_a_click_exactly_at_the_windows_end_is_credited(frozen, dealer, model, broker, settings):
    settings.REFERRALS_ATTRIBUTION_DAYS = 7

    capture(broker_code=broker.code, broker_clicked_at=clock.now() - timedelta(days=7))

    assert Referral.objects.get().broker == broker


def test_a_code_sent_directly_counts_as_opened_when_the_lead_came(frozen, dealer, model, broker):
    capture(broker_code=broker.code, broker_clicked_at=None)

    referral = Referral.objects.get()
    assert (referral.clicked_at, referral.referred_at, referral.stage) == (None, frozen, Stage.REFERRED)


def test_the_first_broker_credited_for_a_lead_keeps_it(frozen, dealer, model, broker, other_broker):
    lead, _created = capture(broker_code=broker.code)
    clock.advance(timedelta(hours=1))

    joined, created = capture(broker_code=other_broker.code)

    assert (joined.pk, created) == (lead.pk, False)
    assert list(Referral.objects.values_list("broker_id", flat=True)) == [broker.pk]
    assert not Referral.objects.filter(broker=other_broker).exists()


def test_a_lead_that_existed_before_the_link_was_opened_is_not_the_brokers(frozen, dealer, model, broker):
    capture()
    clock.advance(timedelta(hours=1))

    capture(broker_code=broker.code, broker_clicked_at=clock.now() - timedelta(minutes=5))

    referral = Referral.objects.get()
    assert (referral.stage, referral.rejection) == (Stage.REJECTED, "existing_lead")
    assert referral_events(referral) == ["referral.rejected"]


def test_a_lead_opened_after_the_click_is_credited_when_the_code_comes_later(frozen, dealer, model, broker):
    clicked = clock.now() - timedelta(minutes=30)
    lead, _created = capture()
    clock.advance(timedelta(hours=1))

    capture(broker_code=broker.code, broker_clicked_at=clicked)

    referral = Referral.objects.get()
    assert (referral.lead_public_id, referral.stage) == (lead.public_id, Stage.REFERRED)


def test_one_level_only_a_brokers_own_referrer_earns_nothing_from_their_referrals(
    frozen, dealer, model, broker, rules, city
):
    # The broker's friend 王芳 becomes a broker herself, and refers 赵磊.
    capture(broker_code=broker.code)
    friend = Referral.objects.get().person
    friend_broker = make_broker(friend, city=city)
    clock.advance(timedelta(days=1))

    lead, _created = capture(phone="13600136000", name="赵磊", broker_code=friend_broker.code)
    referral_qualify(lead_public_id=lead.public_id)

    second = Referral.objects.get(lead_public_id=lead.public_id)
    assert second.broker == friend_broker
    assert list(Commission.objects.filter(referral=second).values_list("broker_id", flat=True)) == [
        friend_broker.pk
    ]
    assert not Commission.objects.filter(broker=broker).exists()
    assert Referral.objects.filter(broker=broker).count() == 1


def test_a_replayed_lead_event_credits_once(frozen, dealer, model, broker):
    lead, _created = capture(broker_code=broker.code)
    person = lead.person

    again = referral_attribute(
        lead_public_id=lead.public_id,
        person_public_id=person.public_id,
        broker_code=broker.code,
        clicked_at=None,
        at=clock.now(),
    )

    assert again == Referral.objects.get()
    assert referral_events(again) == ["referral.created"]


def test_an_unknown_person_credits_nobody(frozen, broker):
    assert (
        referral_attribute(
            lead_public_id="ld_NOPE",
            person_public_id="usr_NOPE",
            broker_code=broker.code,
            clicked_at=None,
            at=clock.now(),
        )
        is None
    )
    assert Referral.objects.count() == 0


def test_opening_a_link_records_the_click_with_device_and_address(frozen, broker):
    click = referral_click_record(broker=broker, device="d" * 50, ip="not-an-ip", landing="/r/X/?m=aurora")

    assert (click.broker, click.device, click.ip, click.landing, click.at) == (
        broker,
        "d" * 40,
        None,
        "/r/X/?m=aurora",
        clock.now(),
    )
    assert ReferralClick.objects.count() == 1


def test_the_friend_is_found_by_phone_as_the_same_person_each_time(frozen, dealer, model, broker):
    lead, _created = capture(broker_code=broker.code)

    assert Referral.objects.get().person == consumer(FRIEND_PHONE, "")
    assert lead.person == Referral.objects.get().person
