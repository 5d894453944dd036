"""The member club pages under /club/: every page in Chinese and English; balance, spendable, pending with
the day each lot becomes spendable, expiring points with dates, every entry with its reason in words, the
tier with progress and benefits, the daily check-in button and the card with its QR code."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from forecourt.accounts.models import Role
from forecourt.core import clock
from forecourt.loyalty.member_presenters import REASON_TEXTS
from forecourt.loyalty.models import EarnSource, EntryKind, PointsEntry
from forecourt.loyalty.services import earning, points_reverse, points_spend, rewards

from .members_cast import (
    MONDAY_10,
    benefit,
    club_rules,
    give,
    make_member,
    make_person,
    make_staff,
    tier_rules,
)

pytestmark = pytest.mark.django_db
PAGES = ("/club/", "/club/points/", "/club/points/summary/", "/club/card/", "/club/card/qr/", "/club/tiers/")


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(MONDAY_10):
        yield


def signed_in(user: Any, language: str = "en") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_member_page_answers_in_both_languages(language):
    member = make_member()
    give(member, 100)
    client = signed_in(member.user, language)
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Content-Language"] == language, path


def test_visitors_sign_in_first_and_staff_are_not_members():
    for path in PAGES:
        response = Client().get(path)
        assert response.status_code == 302 and "/account/sign-in/" in response["Location"], path
    staff = signed_in(make_staff())
    for path in PAGES:
        assert staff.get(path).status_code == 403, path
    assert staff.post("/club/check-in/").status_code == 403
    assert not PointsEntry.objects.exists()


def test_the_club_page_shows_spendable_pending_with_dates_expiring_and_owed_points():
    tier_rules()
    benefit("silver", "free-wash", "Two free car washes a year")
    club_rules()
    member = make_member()
    give(member, 1_200, qualifying=True, reason="purchase", note="FC2611230001")
    give(member, 300, holding_days=7, reason="test_drive")
    points_spend(member=member, points=200, reason="reward", idempotency_key="s1")
    page = signed_in(member.user).get("/club/").content.decode()
    text = text_of(page)
    assert 'id="points-balance">1300<' in page
    assert 'id="points-spendable">1000<' in page
    assert 'id="points-pending">300<' in page
    assert "+300 spendable from 2026-11-30 10:00" in text
    assert "1000 usable until 2027-12-31" in text
    assert 'id="tier-label">Silver card<' in page
    assert "1500 qualifying points in the last 365 days." in text
    assert "3500 more qualifying points to Gold card." in text
    assert 'data-code="free-wash"' in page
    assert "Car purchase" in text and "FC2611230001" in text and "Test drive" in text
    assert "Check in today (+10)" in text
    assert 'id="points-debt"' not in page


def test_a_debt_is_shown_and_explained():
    member = make_member()
    earned = give(member, 500)
    points_spend(member=member, points=400, reason="reward", idempotency_key="s1")
    points_reverse(entry=earned, reason="order_returned")
    page = signed_in(member.user).get("/club/").content.decode()
    assert 'id="points-debt">400<' in page
    assert 'id="points-debt-note"' in page
    assert "Car returned: points taken back" in text_of(page)


def test_every_entry_is_listed_with_its_reason_newest_first_on_pages():
    member = make_member()
    for index in range(35):
        clock.advance(timedelta(minutes=1))
        give(member, index + 1, reason="daily_check_in")
    client = signed_in(member.user)
    first = client.get("/club/points/").content.decode()
    assert first.count('class="club-entry ') == 30
    assert 'data-points="35"' in first and 'data-points="5"' not in first
    assert "Daily check-in" in first and 'id="page-next"' in first
    second = client.get("/club/points/?page=2").content.decode()
    assert second.count('class="club-entry ') == 5 and 'data-points="1"' in second
    assert client.get("/club/points/?page=x").status_code == 200


def test_the_daily_check_in_button_earns_once_a_day():
    club_rules()
    member = make_member()
    client = signed_in(member.user)
    answer = client.post("/club/check-in/", headers={"HX-Request": "true"})
    assert answer.status_code == 200 and answer["HX-Trigger"] == "points-changed"
    assert "+10 points. See you tomorrow!" in text_of(answer.content.decode())
    again = client.post("/club/check-in/", headers={"HX-Request": "true"}).content.decode()
    assert "disabled" in again and "+10 points" not in again
    assert PointsEntry.objects.filter(member=member, kind=EntryKind.EARN).count() == 1
    page = client.get("/club/").content.decode()
    assert "Checked in today" in page and 'id="points-spendable">10<' in page
    clock.advance(timedelta(days=1))
    response = client.post("/club/check-in/")
    assert (response.status_code, response["Location"]) == (302, "/club/")
    assert PointsEntry.objects.filter(member=member).count() == 2


def test_the_card_page_shows_the_qr_code_the_number_and_the_tier():
    member = make_member("王小明")
    page = signed_in(member.user).get("/club/card/").content.decode()
    assert 'id="card-qr"' in page and "<svg" in page
    number = member.number
    assert f"{number[:4]} {number[4:8]} {number[8:]}" in page
    assert 'id="card-tier">Standard card<' in page and "王小明" in page
    assert 'hx-trigger="every 300s"' in page


def test_the_tiers_page_marks_the_members_own_tier():
    tier_rules()
    benefit("gold", "priority-service", "Priority servicing")
    member = make_member()
    give(member, 6_000, qualifying=True)
    page = signed_in(member.user).get("/club/tiers/").content.decode()
    assert page.count('class="card club-tier ') == 4
    assert 'club-tier--gold club-tier--mine" data-tier="gold"' in page
    assert "Priority servicing" in page


def test_a_broker_is_a_member_too():
    broker = make_person("李经纪", role=Role.BROKER)
    assert signed_in(broker).get("/club/").status_code == 200


def test_every_reason_the_club_writes_has_words_for_the_member():
    written = {
        *EarnSource.values,
        earning.REASON_TIER_BONUS,
        earning.REASON_LATE_DELIVERY,
        earning.REASON_ORDER_CANCELLED,
        earning.REASON_ORDER_RETURNED,
        earning.REASON_REFERRAL_CLAWED_BACK,
        rewards.SPEND_REASON,
        *rewards.CANCEL_REASONS,
        "expiry",
        "ops_adjustment",
    }
    assert written - set(REASON_TEXTS) == set()
