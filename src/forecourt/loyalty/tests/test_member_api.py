"""The member club API (/api/v1/members): my points, tier and benefits; my entries; the daily check-in; my
card; the tiers; the staff card lookup; ops task points. Errors keep the one shape, never a 500."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from forecourt.core import clock
from forecourt.core.ratelimit import rate_limits_clear
from forecourt.loyalty.card import card_number_read
from forecourt.loyalty.models import PointsEntry

from .members_cast import MONDAY_10, benefit, club_rules, give, make_member, make_ops, make_staff, tier_rules

pytestmark = pytest.mark.django_db
BASE = "/api/v1/members"


@pytest.fixture(autouse=True)
def frozen():
    rate_limits_clear()
    with clock.frozen_at(MONDAY_10):
        yield


def signed_in(user: Any) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def post(client: Client, path: str, body: Any = None) -> Any:
    return client.post(path, data=json.dumps(body or {}), content_type="application/json")


def test_me_shows_points_with_dates_tier_progress_and_benefits():
    tier_rules()
    benefit("silver", "free-wash", "Two free car washes a year", value=2)
    member = make_member()
    give(member, 1_500, qualifying=True)
    give(member, 200, holding_days=7, qualifying=False)
    body = signed_in(member.user).get(f"{BASE}/me").json()
    assert body["member"]["number"] == member.number
    assert body["points"] == {
        "balance": 1_700,
        "spendable": 1_500,
        "pending": 200,
        "debt": 0,
        "pending_lots": [{"points": 200, "available_at": "2026-11-30T10:00:00+08:00"}],
        "expiring": [{"points": 1_500, "expires_at": "2028-01-01T00:00:00+08:00"}],
    }
    assert body["tier"] == {
        "code": "silver",
        "label": "Silver card",
        "qualifying_points": 1_500,
        "window_days": 365,
        "next": {"code": "gold", "label": "Gold card", "min_points": 5_000, "points_to_go": 3_500},
    }
    assert body["benefits"] == [
        {"code": "free-wash", "title": "Two free car washes a year", "description": "", "value": 2}
    ]
    assert body["checked_in_today"] is False


def test_my_entries_are_paged_newest_first_with_reasons_in_words():
    member = make_member()
    for index in range(3):
        clock.advance(timedelta(minutes=1))
        give(member, 10 * (index + 1), reason="daily_check_in")
    client = signed_in(member.user)
    body = client.get(f"{BASE}/me/entries?limit=2").json()
    assert (body["total"], body["limit"], body["offset"]) == (3, 2, 0)
    assert [(entry["points"], entry["reason_text"]) for entry in body["entries"]] == [
        (30, "Daily check-in"),
        (20, "Daily check-in"),
    ]
    assert [entry["points"] for entry in client.get(f"{BASE}/me/entries?offset=2").json()["entries"]] == [10]
    bad = client.get(f"{BASE}/me/entries?limit=0")
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "limit"


def test_the_daily_check_in_answers_201_then_409():
    club_rules()
    member = make_member()
    client = signed_in(member.user)
    first = post(client, f"{BASE}/me/check-in")
    assert first.status_code == 201
    assert (first.json()["entry"]["points"], first.json()["entry"]["reason"]) == (10, "daily_check_in")
    again = post(client, f"{BASE}/me/check-in")
    assert (again.status_code, again.json()["code"]) == (409, "already_checked_in")
    assert signed_in(member.user).get(f"{BASE}/me").json()["checked_in_today"] is True
    assert PointsEntry.objects.count() == 1


def test_my_card_carries_a_signed_payload():
    member = make_member()
    body = signed_in(member.user).get(f"{BASE}/me/card").json()
    assert body["number"] == member.number
    assert body["valid_for_seconds"] == 1_800
    assert card_number_read(body["qr_payload"]) == member.number


def test_the_me_endpoints_need_a_member():
    for path in ("/me", "/me/entries", "/me/card"):
        assert Client().get(f"{BASE}{path}").json()["code"] == "not_authenticated"
        refused = signed_in(make_staff()).get(f"{BASE}{path}")
        assert (refused.status_code, refused.json()["code"]) == (403, "not_a_member")
    assert post(signed_in(make_staff()), f"{BASE}/me/check-in").status_code == 403
    assert not PointsEntry.objects.exists()


def test_the_tiers_are_public():
    tier_rules()
    benefit("black", "lounge", "Airport lounge")
    body = Client(headers={"accept-language": "en"}).get(f"{BASE}/tiers").json()
    assert [(tier["code"], tier["min_points"]) for tier in body["tiers"]] == [
        ("standard", 0),
        ("silver", 1_000),
        ("gold", 5_000),
        ("black", 20_000),
    ]
    assert body["tiers"][-1]["benefits"][0]["code"] == "lounge"


def test_staff_look_up_a_card_and_see_a_masked_member():
    member = make_member("张三丰", phone="13800138000")
    staff = signed_in(make_staff())
    answer = post(staff, f"{BASE}/cards/lookup", {"code": member.number})
    assert answer.status_code == 200
    assert answer.json()["member"] == {
        "number": member.number,
        "name": "张**",
        "phone": "138****8000",
        "member_since": "2026-11-23T10:00:00+08:00",
        "tier": {"code": "standard", "label": "Standard card"},
        "benefits": [],
    }
    unknown = post(staff, f"{BASE}/cards/lookup", {"code": "0000 0000 0000"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    invalid = post(staff, f"{BASE}/cards/lookup", {"code": "FCM1.NOTACARD"})
    assert (invalid.status_code, invalid.json()["code"]) == (422, "invalid_card")
    empty = post(staff, f"{BASE}/cards/lookup", {"code": ""})
    assert (empty.status_code, empty.json()["details"][0]["field"]) == (422, "code")
    nul = post(staff, f"{BASE}/cards/lookup", {"code": "AB\x00"})
    assert nul.status_code == 422
    consumer = post(signed_in(make_member("李四").user), f"{BASE}/cards/lookup", {"code": member.number})
    assert consumer.status_code == 403


def test_ops_grant_task_points_through_the_api_once():
    club_rules()
    member = make_member()
    ops = signed_in(make_ops())
    first = post(ops, f"{BASE}/{member.number}/tasks", {"task": "profile-completed", "note": "完善资料"})
    assert first.status_code == 201 and first.json()["entry"]["points"] == 50
    again = post(ops, f"{BASE}/{member.number}/tasks", {"task": "profile-completed"})
    assert again.json()["entry"]["id"] == first.json()["entry"]["id"]
    assert post(ops, f"{BASE}/NOTACARD0000/tasks", {"task": "x"}).status_code == 404
    assert post(ops, f"{BASE}/../tasks", {"task": "x"}).status_code == 404
    assert post(ops, f"{BASE}/{member.number}/tasks", {"task": "bad code"}).status_code == 422
    refused = post(signed_in(make_staff()), f"{BASE}/{member.number}/tasks", {"task": "other"})
    assert refused.status_code == 403
    assert PointsEntry.objects.count() == 1
