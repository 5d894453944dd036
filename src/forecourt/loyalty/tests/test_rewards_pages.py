"""The rewards pages: the catalogue with my points and tier, a reward's confirmation, redeeming (once per
rendered confirmation), paying a cash part in the sandbox, my redemptions with the voucher's QR link;
someone else's redemption is a 404 and a refusal is explained, never a 500."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from forecourt.accounts.models import Role
from forecourt.accounts.tests.factories import make_user
from forecourt.loyalty.models import RewardOrder, RewardOrderStatus, Tier
from forecourt.loyalty.services import points_state
from forecourt.offers.models import Voucher

from .rewards_cast import intent_of, make_member, make_reward, notify

pytestmark = pytest.mark.django_db

CATALOGUE = "/club/rewards/"


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _key(page: str) -> str:
    found = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert found, "the confirmation carries a one-time key"
    return found.group(1)


def test_the_catalogue_shows_rewards_to_visitors_with_a_sign_in_link() -> None:
    reward = make_reward(title="精致洗车一次")
    page = Client().get(CATALOGUE)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="wallet-sign-in"' in html and "精致洗车一次" in html
    assert reverse("loyalty-rewards:reward", args=[reward.public_id]) in html


def test_a_member_sees_spendable_points_tier_and_what_they_can_redeem() -> None:
    member = make_member(points=2_500)
    make_reward(title="洗车", points_cost=800)
    make_reward(title="保养", points_cost=6_000)
    make_reward(title="黑卡专享", points_cost=100, min_tier=Tier.BLACK)
    html = signed_in(member.user).get(CATALOGUE).content.decode()
    assert '<span id="wallet-points">2500</span>' in html
    assert 'data-tier="silver"' in html
    assert html.count("badge--success") == 1  # only the car wash is within reach


def test_the_confirmation_spends_the_points_once_and_leads_to_the_voucher() -> None:
    member = make_member(points=1_000)
    reward = make_reward(points_cost=800)
    client = signed_in(member.user)
    confirmation = client.get(reverse("loyalty-rewards:reward", args=[reward.public_id])).content.decode()
    assert 'id="redeem-confirm"' in confirmation and "200" in confirmation  # points left afterwards
    key = _key(confirmation)
    url = reverse("loyalty-rewards:redeem", args=[reward.public_id])

    first = client.post(url, {"idempotency_key": key})
    second = client.post(url, {"idempotency_key": key})  # a double click

    order = RewardOrder.objects.get()
    detail = reverse("loyalty-rewards:redemption", args=[order.public_id])
    assert first.status_code == 302 and first["Location"] == detail
    assert second["Location"] == detail
    assert points_state(member).spendable == 200
    page = client.get(detail).content.decode()
    assert 'data-status="issued"' in page
    assert reverse("offers:voucher", args=[order.voucher_code]) in page
    mine = client.get(reverse("loyalty-rewards:mine")).content.decode()
    assert reverse("offers:voucher", args=[order.voucher_code]) in mine


def test_a_refused_redemption_is_explained_on_the_reward_page() -> None:
    member = make_member(points=1_000)
    reward = make_reward(points_cost=800)
    type(reward.campaign).objects.filter(pk=reward.campaign_id).update(claimed_count=50)
    client = signed_in(member.user)
    answer = client.post(
        reverse("loyalty-rewards:redeem", args=[reward.public_id]), {"idempotency_key": "k"}, follow=True
    )
    assert answer.status_code == 200
    assert "flash--error" in answer.content.decode()
    assert not RewardOrder.objects.exists()


def test_without_enough_points_the_reward_page_says_how_many_more_are_needed() -> None:
    member = make_member(points=500)
    reward = make_reward(points_cost=800)
    html = (
        signed_in(member.user)
        .get(reverse("loyalty-rewards:reward", args=[reward.public_id]))
        .content.decode()
    )
    assert 'id="redeem-short"' in html and 'id="redeem-confirm"' not in html


def test_staff_and_visitors_cannot_redeem() -> None:
    reward = make_reward()
    staff = signed_in(make_user(role=Role.OPS))
    assert (
        'id="not-a-member"'
        in staff.get(reverse("loyalty-rewards:reward", args=[reward.public_id])).content.decode()
    )
    staff.post(reverse("loyalty-rewards:redeem", args=[reward.public_id]), {"idempotency_key": "k"})
    anonymous = Client().post(
        reverse("loyalty-rewards:redeem", args=[reward.public_id]), {"idempotency_key": "k"}
    )
    assert anonymous.status_code == 302 and "/sign-in/" in anonymous["Location"]
    assert not RewardOrder.objects.exists()


def test_a_cash_part_goes_to_the_sandbox_and_the_page_follows_the_payment() -> None:
    member = make_member(points=2_000)
    reward = make_reward(points_cost=1_500, cash_fen=49_00)
    client = signed_in(member.user)
    confirmation = client.get(reverse("loyalty-rewards:reward", args=[reward.public_id])).content.decode()
    assert 'id="provider-sandbox"' in confirmation

    answer = client.post(
        reverse("loyalty-rewards:redeem", args=[reward.public_id]),
        {"idempotency_key": _key(confirmation), "provider": "sandbox"},
    )

    order = RewardOrder.objects.get()
    intent = intent_of(order)
    assert answer.status_code == 302 and answer["Location"].endswith(
        f"/payments/sandbox/{intent.out_trade_no}/"
    )
    status_url = reverse("loyalty-rewards:redemption-status", args=[order.public_id])
    waiting = client.get(status_url + "?was=awaiting_payment")
    assert 'data-status="awaiting_payment"' in waiting.content.decode() and "HX-Refresh" not in waiting

    notify(intent)

    done = client.get(status_url + "?was=awaiting_payment")
    assert done["HX-Refresh"] == "true"
    assert RewardOrder.objects.get().status == RewardOrderStatus.ISSUED and Voucher.objects.count() == 1


def test_someone_elses_redemption_is_a_404() -> None:
    member, other = make_member(points=1_000), make_member()
    client = signed_in(member.user)
    reward = make_reward(points_cost=800)
    client.post(reverse("loyalty-rewards:redeem", args=[reward.public_id]), {"idempotency_key": "k"})
    order = RewardOrder.objects.get()
    for name in ("redemption", "redemption-status"):
        assert (
            signed_in(other.user).get(reverse(f"loyalty-rewards:{name}", args=[order.public_id])).status_code
            == 404
        )
    assert (
        signed_in(other.user)
        .post(reverse("loyalty-rewards:redemption-pay", args=[order.public_id]))
        .status_code
        == 404
    )
    assert Client().get(reverse("loyalty-rewards:mine")).status_code == 302
    assert client.get(reverse("loyalty-rewards:reward", args=["rwd_NOSUCH"])).status_code == 404
