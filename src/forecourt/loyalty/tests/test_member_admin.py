"""The ops console for the member club (/ops/loyalty/): earn rules (one active per source), tier rules that
must rise, members with their ledger read-only, a points adjustment and a task grant through their
services, rewards whose voucher campaign must stay switched off."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from forecourt.accounts.models import Role
from forecourt.accounts.tests.factories import make_user
from forecourt.core import clock
from forecourt.loyalty.models import EarnRule, EntryKind, PointsEntry, Reward, TierRule
from forecourt.loyalty.services import points_state
from forecourt.offers.models import Campaign

from .members_cast import MONDAY_10, club_rules, give, make_member, make_staff, tier_rules
from .rewards_cast import make_reward

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(MONDAY_10):
        yield


@pytest.fixture
def console() -> Client:
    ops = make_user(username="ops-root", role=Role.OPS, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(ops)
    client.cookies["django_language"] = "en"
    return client


def test_every_list_opens(console):
    club_rules()
    member = make_member()
    give(member, 100)
    for path in (
        "/ops/loyalty/earnrule/",
        "/ops/loyalty/tierrule/",
        "/ops/loyalty/tierbenefit/",
        "/ops/loyalty/member/",
        "/ops/loyalty/pointsentry/",
        "/ops/loyalty/reward/",
        "/ops/loyalty/rewardorder/",
        f"/ops/loyalty/member/{member.pk}/change/",
    ):
        assert console.get(path).status_code == 200, path
    assert console.get("/ops/loyalty/pointsentry/add/").status_code == 403


def test_ops_adjust_a_balance_with_a_note_once_per_form(console):
    member = make_member()
    form = console.get(f"/ops/loyalty/member/{member.pk}/adjust/").content.decode()
    key = form.split('name="key" value="')[1].split('"')[0]
    body = {"points": "-300", "note": "重复积分更正", "key": key}
    response = console.post(f"/ops/loyalty/member/{member.pk}/adjust/", body)
    assert response.status_code == 302
    console.post(f"/ops/loyalty/member/{member.pk}/adjust/", body)
    adjustment = PointsEntry.objects.get(member=member)
    assert (adjustment.kind, adjustment.points, adjustment.note) == (EntryKind.ADJUST, -300, "重复积分更正")
    assert points_state(member).debt == 300
    refused = console.post(f"/ops/loyalty/member/{member.pk}/adjust/", {**body, "points": "0", "key": "k2"})
    assert refused.status_code == 200 and PointsEntry.objects.count() == 1


def test_ops_grant_task_points_from_the_members_page(console):
    club_rules()
    member = make_member()
    response = console.post(
        f"/ops/loyalty/member/{member.pk}/task/", {"task": "survey-2026", "note": "车主问卷", "points": ""}
    )
    assert response.status_code == 302
    entry = PointsEntry.objects.get(member=member)
    assert (entry.reason, entry.points, entry.note) == ("ops_task", 50, "车主问卷")


def test_tier_thresholds_must_rise(console):
    tier_rules(silver=1_000, gold=5_000, black=20_000)
    gold = TierRule.objects.get(tier="gold")
    response = console.post(f"/ops/loyalty/tierrule/{gold.pk}/change/", {"tier": "gold", "min_points": "500"})
    assert response.status_code == 200
    assert "Each tier must need more points than the tier below it." in response.content.decode()
    assert TierRule.objects.get(tier="gold").min_points == 5_000
    console.post(f"/ops/loyalty/tierrule/{gold.pk}/change/", {"tier": "gold", "min_points": "6000"})
    assert TierRule.objects.get(tier="gold").min_points == 6_000


def test_dealer_staff_cannot_adjust_points():
    staff: Any = make_staff()
    client = Client()
    client.force_login(staff)
    member = make_member()
    response = client.post(
        f"/ops/loyalty/member/{member.pk}/adjust/", {"points": "100", "note": "x", "key": "k"}
    )
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not PointsEntry.objects.exists()


def test_a_reward_whose_campaign_is_switched_on_is_flagged_and_cannot_be_saved(console):
    reward = make_reward(title="精致洗车一次")
    campaign = reward.campaign
    form = {
        "title": "精致洗车（新）",
        "description": "",
        "kind": reward.kind,
        "points_cost": "900",
        "cash_fen": "0",
        "campaign": str(campaign.pk),
        "min_tier": reward.min_tier,
        "is_active": "on",
        "position": "0",
    }
    assert "is switched on" not in console.get("/ops/loyalty/reward/").content.decode()

    Campaign.objects.filter(pk=campaign.pk).update(is_active=True)
    listing = console.get("/ops/loyalty/reward/").content.decode()
    assert "The voucher campaign of these rewards is switched on" in listing and "精致洗车一次" in listing
    refused = console.post(f"/ops/loyalty/reward/{reward.pk}/change/", form)
    assert refused.status_code == 200
    assert "This campaign is switched on, so anyone can claim its vouchers free" in refused.content.decode()
    assert Reward.objects.values_list("title", "points_cost").get(pk=reward.pk) == ("精致洗车一次", 800)

    Campaign.objects.filter(pk=campaign.pk).update(is_active=False)
    saved = console.post(f"/ops/loyalty/reward/{reward.pk}/change/", form)
    assert saved.status_code == 302
    assert Reward.objects.values_list("title", "points_cost").get(pk=reward.pk) == ("精致洗车（新）", 900)


def test_the_rules_list_refuses_a_second_active_rule_of_one_source_instead_of_failing(console):
    first = EarnRule.objects.create(source="test_drive", title="试驾 A", points=100, is_active=True)
    second = EarnRule.objects.create(source="test_drive", title="试驾 B", points=200, is_active=False)
    listing = {
        "form-TOTAL_FORMS": "2",
        "form-INITIAL_FORMS": "2",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "form-0-id": str(first.pk),
        "form-0-is_active": "on",
        "form-1-id": str(second.pk),
        "form-1-is_active": "on",
        "_save": "Save",
    }
    refused = console.post("/ops/loyalty/earnrule/", listing)
    assert refused.status_code == 200
    assert "Only one rule per source can be active" in refused.content.decode()
    assert list(EarnRule.objects.order_by("pk").values_list("is_active", flat=True)) == [True, False]

    # Switching one off and the other on in the same save is a swap, not two active rules.
    del listing["form-0-is_active"]
    assert console.post("/ops/loyalty/earnrule/", listing).status_code == 302
    assert list(EarnRule.objects.order_by("pk").values_list("is_active", flat=True)) == [False, True]
