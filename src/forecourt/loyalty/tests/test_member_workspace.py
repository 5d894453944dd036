"""The dealer's member page (/workspace/members/): scan the member card or type its number and see the
member's masked name and phone, tier and benefits; refused codes say why; only dealer staff get in."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from forecourt.accounts.models import Role
from forecourt.core import clock
from forecourt.core.models import AuditEntry
from forecourt.core.ratelimit import rate_limits_clear
from forecourt.loyalty.card import PAYLOAD_PATTERN, card_payload

from .members_cast import MONDAY_10, benefit, give, make_member, make_ops, make_staff, tier_rules

pytestmark = pytest.mark.django_db
PAGE = "/workspace/members/"
LOOKUP = "/workspace/members/lookup/"


@pytest.fixture(autouse=True)
def frozen():
    rate_limits_clear()
    with clock.frozen_at(MONDAY_10):
        yield


def signed_in(user: Any, language: str = "en") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


@pytest.fixture
def gold_member():
    tier_rules()
    benefit("gold", "priority-service", "Priority servicing")
    member = make_member("张三丰", phone="13800138000")
    give(member, 5_000, qualifying=True)
    return member


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_page_answers_in_both_languages_with_the_scanner(language):
    response = signed_in(make_staff(), language).get(PAGE)
    assert response.status_code == 200
    assert response.headers["Content-Language"] == language
    page = response.content.decode()
    assert 'id="scanner"' in page and "web/qr_camera.js" in page
    # The shared scanner posts a scanned code to the lookup itself (no script of the page's own).
    assert 'id="scanner-form"' in page and '<input type="hidden" id="scanner-code" name="code">' in page
    assert f'data-pattern="{PAYLOAD_PATTERN.pattern}"' in page


def test_a_scanned_card_shows_the_masked_member_their_tier_and_benefits(gold_member):
    staff = make_staff()
    answer = signed_in(staff).post(
        LOOKUP, {"code": card_payload(gold_member)}, headers={"HX-Request": "true"}
    )
    assert answer.status_code == 200
    card = answer.content.decode()
    assert 'id="member-name">张**<' in card
    assert 'id="member-phone">138****8000<' in card
    assert 'id="member-tier">Gold card<' in card
    assert 'data-code="priority-service"' in card and "Priority servicing" in card
    assert "张三丰" not in card and "13800138000" not in card
    assert (
        AuditEntry.objects.filter(
            action="loyalty.member_card_looked_up", object_id=gold_member.number
        ).count()
        == 1
    )


def test_a_typed_card_number_works_without_script_too(gold_member):
    number = gold_member.number
    response = signed_in(make_staff()).post(LOOKUP, {"code": f"{number[:4]} {number[4:8]} {number[8:]}"})
    assert response.status_code == 200
    assert 'id="member-tier">Gold card<' in response.content.decode()


def test_a_refused_code_says_why(gold_member):
    client = signed_in(make_staff())
    forged = card_payload(gold_member)[:-4] + "AAAA"
    fragment = client.post(LOOKUP, {"code": forged}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert 'data-code="invalid_card"' in fragment.content.decode()
    page = client.post(LOOKUP, {"code": "0000 0000 0000"})
    assert page.status_code == 404
    assert "No member has this card number." in page.content.decode()
    assert not AuditEntry.objects.filter(action="loyalty.member_card_looked_up").exists()


def test_only_dealer_staff_use_the_page():
    member = make_member()
    for user in (member.user, make_ops(), make_staff(role=Role.DEALER_MANAGER)):
        client = signed_in(user)
        expected = 200 if user.role == Role.DEALER_MANAGER else 403
        assert client.get(PAGE).status_code == expected
        assert client.post(LOOKUP, {"code": member.number}).status_code == expected
    anonymous = Client().get(PAGE)
    assert anonymous.status_code == 302 and "/account/sign-in/" in anonymous["Location"]
    assert Client().post(LOOKUP, {"code": member.number}).status_code == 302
