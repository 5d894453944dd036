"""The fraud rules: self-referral by person, phone or device; a person already a customer or an open lead;
the daily velocity limit; clusters from one device or address flagged, with their evidence."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from typing import Any

import pytest

from forecourt.accounts.models import User
from forecourt.core import clock
from forecourt.core.models import Event
from forecourt.leads.models import Lead, LeadStatus
from forecourt.orders.models import OrderStatus
from forecourt.referrals.fraud import FraudRule, self_referral
from forecourt.referrals.models import BrokerDevice, Commission, CommissionStatus, Referral, Stage
from forecourt.referrals.services import referral_attribute, referral_qualify

from .referrals_cast import *  # noqa: F403
from .referrals_cast import (
    BROKER_DEVICE,
    BROKER_PHONE,
    DEVICE,
    FRIEND_PHONE,
    capture,
    consumer,
    make_order,
    referral_events,
)

pytestmark = pytest.mark.django_db

_leads = itertools.count(1)


def attribute(broker: Any, person: User, **overrides: Any) -> Referral | None:
    arguments: dict[str, Any] = {
        "lead_public_id": f"ld_FRAUD{next(_leads):08d}",
        "person_public_id": person.public_id,
        "broker_code": broker.code,
        "clicked_at": None,
        "at": clock.now(),
        "model_code": "aurora",
    }
    arguments.update(overrides)
    return referral_attribute(**arguments)


def friend(index: int) -> User:
    return consumer(f"1391234{index:04d}", f"朋友{index}")


def test_a_broker_referring_themself_is_rejected_and_earns_nothing(frozen, dealer, model, broker, rules):
    lead, _created = capture(phone=BROKER_PHONE, name="林浩", broker_code=broker.code)
    referral_qualify(lead_public_id=lead.public_id)

    referral = Referral.objects.get()
    assert (referral.stage, referral.rejection, referral.flags) == (
        Stage.REJECTED,
        "self_referral",
        [{"rule": "self_referral", "evidence": {"match": "person"}}],
    )
    assert referral_events(referral) == ["referral.rejected"]
    assert Event.objects.get(name="referral.rejected").payload["reason"] == "self_referral"
    assert Commission.objects.count() == 0


def test_a_lead_from_the_brokers_own_device_is_a_self_referral(frozen, broker):
    BrokerDevice.objects.create(
        broker=broker, device=BROKER_DEVICE, first_seen_at=frozen, last_seen_at=frozen
    )

    referral = attribute(broker, friend(1), device=BROKER_DEVICE)

    assert referral is not None
    assert (referral.stage, referral.flags) == (
        Stage.REJECTED,
        [{"rule": "self_referral", "evidence": {"match": "device", "device": BROKER_DEVICE}}],
    )


def test_the_same_phone_as_the_broker_is_a_self_referral_without_showing_the_number(frozen, broker):
    twin = User(phone_hash=broker.user.phone_hash)

    flag = self_referral(broker=broker, person=twin, device="")

    assert flag is not None and flag.as_json() == {"rule": "self_referral", "evidence": {"match": "phone"}}
    assert BROKER_PHONE not in json.dumps(flag.as_json())


def test_a_customer_cannot_be_referred(frozen, dealer, model, broker):
    person = friend(2)
    order = make_order(person, model, dealer)

    referral = attribute(broker, person)

    assert referral is not None
    assert (referral.stage, referral.rejection) == (Stage.REJECTED, "existing_customer")
    assert referral.flags[0]["evidence"]["order"] == order.number


def test_someone_whose_only_order_was_cancelled_can_be_referred(frozen, dealer, model, broker):
    person = friend(3)
    make_order(person, model, dealer, status=OrderStatus.CANCELLED)

    referral = attribute(broker, person)

    assert referral is not None and referral.stage == Stage.REFERRED


def test_an_open_lead_of_another_model_before_the_click_cannot_be_referred(frozen, dealer, model, broker):
    from forecourt.catalog.models import VehicleModel

    VehicleModel.objects.create(
        code="summit", name="峰峦", name_en="Summit", body_type="suv", powertrain="phev"
    )
    earlier, _created = capture(model_code="summit")
    clock.advance(timedelta(days=1))

    lead, _created = capture(broker_code=broker.code, broker_clicked_at=clock.now() - timedelta(hours=1))

    referral = Referral.objects.get(lead_public_id=lead.public_id)
    assert (referral.stage, referral.rejection) == (Stage.REJECTED, "existing_lead")
    assert referral.flags[0]["evidence"]["lead"] == earlier.public_id


def test_a_closed_lead_does_not_stop_a_referral(frozen, dealer, model, broker):
    earlier, _created = capture()
    Lead.objects.filter(pk=earlier.pk).update(status=LeadStatus.DEFEATED, defeated_at=clock.now())
    clock.advance(timedelta(days=1))

    lead, created = capture(broker_code=broker.code, broker_clicked_at=clock.now() - timedelta(hours=1))

    assert created is True
    assert Referral.objects.get(lead_public_id=lead.public_id).stage == Stage.REFERRED


def test_beyond_the_daily_limit_referrals_are_refused_until_the_next_day(frozen, broker, settings):
    settings.REFERRALS_DAILY_LIMIT = 2
    first, second = attribute(broker, friend(10)), attribute(broker, friend(11))

    third = attribute(broker, friend(12))

    assert first is not None and second is not None and third is not None
    assert [first.stage, second.stage, third.stage] == [Stage.REFERRED, Stage.REFERRED, Stage.REJECTED]
    assert third.flags == [{"rule": "velocity", "evidence": {"count": 2, "limit": 2, "day": "2026-11-23"}}]
    # Refused ones do not count against the limit; a new day starts a new count (Shanghai midnight).
    assert attribute(broker, friend(13)).stage == Stage.REJECTED  # type: ignore[union-attr]
    with clock.frozen_at(frozen.replace(hour=0, minute=0) + timedelta(days=1)):
        assert attribute(broker, friend(14)).stage == Stage.REFERRED  # type: ignore[union-attr]


def test_a_cluster_from_one_device_is_flagged_and_the_earlier_commissions_held(
    frozen, broker, other_broker, rules, settings
):
    settings.REFERRALS_CLUSTER_SIZE = 3
    settings.REFERRALS_CLUSTER_DAYS = 7
    first = attribute(broker, friend(20), device=DEVICE)
    assert first is not None
    referral_qualify(lead_public_id=first.lead_public_id)
    clock.advance(timedelta(days=3))
    second = attribute(other_broker, friend(21), device=DEVICE)
    assert second is not None and second.flags == []
    clock.advance(timedelta(days=3))

    third = attribute(broker, friend(22), device=DEVICE)

    assert third is not None
    assert third.stage == Stage.REFERRED
    evidence = third.flags[0]["evidence"]
    assert third.flags[0]["rule"] == "device_cluster"
    assert (evidence["device"], evidence["count"], evidence["window_days"], evidence["referrals"]) == (
        DEVICE,
        3,
        7,
        [first.public_id, second.public_id],
    )
    for earlier in (first, second):
        earlier.refresh_from_db()
        assert [flag["rule"] for flag in earlier.flags] == ["device_cluster"]
    held = Commission.objects.get(referral=first)
    assert (held.status, held.hold_reason) == (CommissionStatus.HELD, "device_cluster")
    assert Event.objects.filter(name="referral.created", payload__flagged=True).count() == 1


def test_referrals_from_one_device_spread_beyond_the_cluster_window_are_not_flagged(frozen, broker, settings):
    settings.REFERRALS_CLUSTER_SIZE = 3
    settings.REFERRALS_CLUSTER_DAYS = 7
    for index in range(3):
        attribute(broker, friend(30 + index), device=DEVICE)
        clock.advance(timedelta(days=4))

    assert [referral.flags for referral in Referral.objects.all()] == [[], [], []]


def test_a_cluster_from_one_address_is_flagged(frozen, broker, settings):
    settings.REFERRALS_CLUSTER_SIZE = 2
    attribute(broker, friend(40), ip="203.0.113.7")

    second = attribute(broker, friend(41), ip="203.0.113.7")
    other = attribute(broker, friend(42), ip="198.51.100.1")

    assert second is not None and other is not None
    assert [flag["rule"] for flag in second.flags] == [FraudRule.IP_CLUSTER]
    assert second.flags[0]["evidence"]["ip"] == "203.0.113.7"
    assert other.flags == []


def test_a_flagged_referrals_commission_is_held_until_ops_decide(frozen, broker, rules, settings):
    settings.REFERRALS_CLUSTER_SIZE = 1
    referral = attribute(broker, friend(50), device=DEVICE)
    assert referral is not None and referral.flags[0]["rule"] == "device_cluster"

    referral_qualify(lead_public_id=referral.lead_public_id)

    commission = Commission.objects.get()
    assert (commission.status, commission.hold_reason) == (CommissionStatus.HELD, "device_cluster")
    assert referral_events(referral) == [
        "commission.created",
        "commission.held",
        "referral.created",
        "referral.qualified",
    ]


def test_evidence_never_holds_a_phone_number(frozen, dealer, model, broker):
    capture(phone=BROKER_PHONE, name="林浩", broker_code=broker.code)
    capture(phone=FRIEND_PHONE)
    clock.advance(timedelta(hours=1))
    capture(phone=FRIEND_PHONE, broker_code=broker.code, broker_clicked_at=clock.now())

    stored = json.dumps(list(Referral.objects.values_list("flags", flat=True)))
    events = json.dumps(list(Event.objects.filter(subject_type="referral").values_list("payload", flat=True)))
    for number in (BROKER_PHONE, FRIEND_PHONE):
        assert number not in stored and number not in events
