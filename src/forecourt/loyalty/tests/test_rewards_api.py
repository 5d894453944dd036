"""The rewards API: the catalogue (public, with my points when signed in), redeeming with an
Idempotency-Key (201 / 409 codes / 404 / 422 / 401 / 403), my redemptions (someone else's is a 404) and
paying a cash part."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from forecourt.accounts.models import Role
from forecourt.accounts.tests.factories import make_user
from forecourt.core.models import Event
from forecourt.loyalty.models import RewardOrder, Tier
from forecourt.loyalty.services import points_state
from forecourt.offers.models import Voucher
from forecourt.offers.qr import qr_payload_read

from .rewards_cast import intent_of, make_member, make_reward, notify

pytestmark = pytest.mark.django_db

REWARDS = "/api/v1/rewards"


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def redeem(client: Client, reward: Any, *, key: str | None = "key-1", body: Any = None) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    if body is None:
        return client.post(f"{REWARDS}/{reward.public_id}/redeem", headers=headers)
    return client.post(
        f"{REWARDS}/{reward.public_id}/redeem",
        data=json.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def test_the_catalogue_is_public_and_shows_my_points_and_tier_when_signed_in() -> None:
    reward = make_reward(points_cost=800, min_tier=Tier.SILVER)
    make_reward(title="下架", is_active=False)

    anonymous = Client().get(REWARDS).json()
    assert anonymous["member"] is None
    [item] = anonymous["items"]
    assert (item["id"], item["points"], item["cash"], item["min_tier"], item["stock_left"]) == (
        reward.public_id,
        800,
        None,
        "silver",
        50,
    )
    assert item["merchant"]["name"] == "洁车坊·徐汇店" and "affordable" not in item

    member = make_member(points=2_500)
    mine = signed_in(member.user).get(REWARDS).json()
    assert mine["member"] == {"spendable": 2_500, "pending": 0, "tier": "silver", "number": member.number}
    assert (mine["items"][0]["affordable"], mine["items"][0]["tier_reached"]) == (True, True)


def test_one_reward_and_an_unknown_one() -> None:
    reward = make_reward(cash_fen=49_00)
    answer = Client().get(f"{REWARDS}/{reward.public_id}")
    assert answer.status_code == 200 and answer.json()["cash"] == {"amount": 49_00, "currency": "CNY"}
    assert Client().get(f"{REWARDS}/rwd_NOSUCHREWARD000").status_code == 404
    assert Client().get(f"{REWARDS}/bad%20id").status_code == 404


def test_redeeming_answers_201_with_the_voucher_and_replays_the_same_answer() -> None:
    member = make_member(points=1_000)
    reward = make_reward(points_cost=800)
    client = signed_in(member.user)

    first = redeem(client, reward)
    again = redeem(client, reward)

    assert first.status_code == 201 and again.status_code == 201
    assert first.json() == again.json()
    redemption = first.json()["redemption"]
    assert (redemption["status"], redemption["points"], redemption["cash"]) == ("issued", 800, None)
    voucher = redemption["voucher"]
    assert voucher["code"] == RewardOrder.objects.get().voucher_code
    assert voucher["status"] == "active"
    assert qr_payload_read(voucher["qr"]).code == voucher["code"]
    assert Voucher.objects.count() == 1 and points_state(member).spendable == 200


def test_the_same_key_with_another_body_is_422() -> None:
    member = make_member(points=5_000)
    client = signed_in(member.user)
    assert redeem(client, make_reward()).status_code == 201
    other = redeem(client, make_reward(title="另一个"))
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert RewardOrder.objects.count() == 1


def test_refusals_are_409_with_their_code_and_write_nothing() -> None:
    member = make_member(points=500)
    client = signed_in(member.user)

    short = redeem(client, make_reward(points_cost=800))
    assert short.status_code == 409
    assert short.json() == {
        "code": "insufficient_points",
        "message": short.json()["message"],
        "details": {"spendable": 500, "needed": 800},
    }
    tier = redeem(client, make_reward(points_cost=100, min_tier=Tier.BLACK), key="key-2")
    assert (tier.status_code, tier.json()["code"]) == (409, "tier_too_low")
    closed = redeem(client, make_reward(points_cost=100, is_active=False), key="key-3")
    assert closed.status_code == 404
    assert not RewardOrder.objects.exists() and not Voucher.objects.exists()
    assert not Event.objects.filter(name__startswith="reward.").exists()


def test_sold_out_is_409_reward_unavailable() -> None:
    reward = make_reward(points_cost=100)
    type(reward.campaign).objects.filter(pk=reward.campaign_id).update(claimed_count=50)
    answer = redeem(signed_in(make_member(points=500).user), reward)
    assert answer.status_code == 409
    assert (answer.json()["code"], answer.json()["details"]["reason"]) == ("reward_unavailable", "sold_out")


def test_redeeming_needs_a_signed_in_member_and_an_idempotency_key() -> None:
    reward = make_reward()
    assert redeem(Client(), reward).status_code == 401
    member = make_member(points=5_000)
    missing = redeem(signed_in(member.user), reward, key=None)
    assert missing.status_code == 422 and missing.json()["details"][0]["field"] == "Idempotency-Key"
    staff = redeem(signed_in(make_user(role=Role.OPS)), reward)
    assert (staff.status_code, staff.json()["code"]) == (403, "forbidden")
    bad = redeem(signed_in(member.user), reward, body=["sandbox"])
    assert bad.status_code == 422
    bad_provider = redeem(signed_in(member.user), make_reward(cash_fen=49_00), body={"provider": "cash"})
    assert bad_provider.status_code == 422 and bad_provider.json()["details"][0]["field"] == "provider"
    assert not RewardOrder.objects.exists()


def test_my_redemptions_and_someone_elses_is_a_404() -> None:
    member, other = make_member(points=2_000), make_member(points=2_000)
    order_id = redeem(signed_in(member.user), make_reward()).json()["redemption"]["id"]

    listing = signed_in(member.user).get(f"{REWARDS}/redemptions").json()
    assert listing["count"] == 1 and listing["items"][0]["id"] == order_id
    assert signed_in(member.user).get(f"{REWARDS}/redemptions/{order_id}").json()["status"] == "issued"
    assert signed_in(other.user).get(f"{REWARDS}/redemptions/{order_id}").status_code == 404
    assert signed_in(other.user).get(f"{REWARDS}/redemptions").json() == {"count": 0, "items": []}
    assert Client().get(f"{REWARDS}/redemptions").status_code == 401


def test_a_cash_part_is_paid_through_the_pay_endpoint_and_then_carries_its_voucher() -> None:
    member = make_member(points=2_000)
    reward = make_reward(points_cost=1_500, cash_fen=49_00)
    client = signed_in(member.user)

    redemption = redeem(client, reward, body={"provider": "sandbox"}).json()["redemption"]
    assert (redemption["status"], redemption["voucher"], redemption["cash"]["amount"]) == (
        "awaiting_payment",
        None,
        49_00,
    )
    assert redemption["pay_by"] is not None
    pay = client.post(
        f"{REWARDS}/redemptions/{redemption['id']}/pay",
        data=json.dumps({"return_url": "/club/rewards/mine/"}),
        content_type="application/json",
    )
    assert pay.status_code == 201 and pay.json()["kind"] == "redirect"
    off_site = client.post(
        f"{REWARDS}/redemptions/{redemption['id']}/pay",
        data=json.dumps({"return_url": "https://evil.example/"}),
        content_type="application/json",
    )
    assert off_site.status_code == 422
    other = signed_in(make_member().user).post(
        f"{REWARDS}/redemptions/{redemption['id']}/pay",
        data=json.dumps({"return_url": "/club/rewards/mine/"}),
        content_type="application/json",
    )
    assert other.status_code == 404

    notify(intent_of(RewardOrder.objects.get()))

    paid = client.get(f"{REWARDS}/redemptions/{redemption['id']}").json()
    assert paid["status"] == "issued" and paid["voucher"]["status"] == "active"
