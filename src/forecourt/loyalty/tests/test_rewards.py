"""Redeeming a reward for points: points spent and an offers voucher issued in one transaction, exactly
once per key; every refusal (points, tier, stock, limit, dates, staff) leaves nothing behind; the voucher
is written off at the partner merchant like any other, and the reward's campaign cannot be claimed free."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forecourt.accounts.models import Role
from forecourt.accounts.tests.factories import make_user
from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.loyalty.models import (
    EntryKind,
    PointsEntry,
    RewardOrder,
    RewardOrderStatus,
    Tier,
    TierRule,
)
from forecourt.loyalty.reward_selectors import member_wallet, reward_stock_left, rewards_on_offer
from forecourt.loyalty.services import member_for, points_state, reward_redeem
from forecourt.offers.models import ClaimTally, CouponKind, Redemption, Voucher, VoucherStatus
from forecourt.offers.services import campaign_claim, voucher_redeem
from forecourt.offers.tests.factories import make_merchant, make_merchant_staff, make_staff

from .rewards_cast import give_points, make_member, make_reward, reward_campaign

pytestmark = pytest.mark.django_db


def _nothing_written(member, before_entries: int) -> None:
    assert PointsEntry.objects.filter(member=member).count() == before_entries
    assert not RewardOrder.objects.exists()
    assert not Voucher.objects.exists()
    assert not Event.objects.filter(name__startswith="reward.").exists()


def test_redeeming_for_points_spends_them_and_issues_the_voucher_at_once() -> None:
    member = make_member(points=1_000)
    reward = make_reward(points_cost=800)

    order = reward_redeem(member=member, reward=reward, idempotency_key="k1", actor=member.user)

    assert (order.status, order.points, order.cash_fen) == (RewardOrderStatus.ISSUED, 800, 0)
    assert order.entry.kind == EntryKind.REDEEM and order.entry.points == -800
    assert (order.entry.reason, order.entry.source_ref) == ("reward", order.public_id)
    voucher = Voucher.objects.get(code=order.voucher_code)
    assert (voucher.holder_id, voucher.campaign_id, voucher.status) == (
        member.user_id,
        reward.campaign_id,
        VoucherStatus.ACTIVE,
    )
    assert (voucher.channel, voucher.face_value_fen) == ("app", 68_00)
    assert points_state(member).spendable == 200
    reward.campaign.refresh_from_db()
    assert reward.campaign.claimed_count == 1
    [event] = Event.objects.filter(name="reward.redeemed")
    assert event.subject_id == order.public_id
    assert event.payload["voucher"] == voucher.code and event.payload["member"] == member.user.public_id


def test_the_same_key_redeems_once_and_returns_the_first_redemption() -> None:
    member = make_member(points=5_000)
    reward = make_reward(points_cost=800)

    first = reward_redeem(member=member, reward=reward, idempotency_key="same", actor=member.user)
    again = reward_redeem(member=member, reward=reward, idempotency_key="same", actor=member.user)

    assert again.pk == first.pk
    assert RewardOrder.objects.count() == 1 and Voucher.objects.count() == 1
    assert points_state(member).spendable == 4_200


def test_the_same_key_for_another_reward_is_refused() -> None:
    member = make_member(points=5_000)
    reward_redeem(member=member, reward=make_reward(), idempotency_key="same", actor=member.user)

    with pytest.raises(DomainError) as refused:
        reward_redeem(
            member=member, reward=make_reward(title="另一个"), idempotency_key="same", actor=member.user
        )

    assert (refused.value.code, refused.value.status) == ("idempotency_key_reused", 422)
    assert RewardOrder.objects.count() == 1


def test_two_members_may_use_the_same_key() -> None:
    reward = make_reward()
    one, two = make_member(points=900), make_member(points=900)

    first = reward_redeem(member=one, reward=reward, idempotency_key="k", actor=one.user)
    second = reward_redeem(member=two, reward=reward, idempotency_key="k", actor=two.user)

    assert first.pk != second.pk and RewardOrder.objects.count() == 2


def test_too_few_points_is_409_and_nothing_is_written() -> None:
    member = make_member(points=799)
    reward = make_reward(points_cost=800)

    with pytest.raises(DomainError) as refused:
        reward_redeem(member=member, reward=reward, idempotency_key="k", actor=member.user)

    assert (refused.value.code, refused.value.status) == ("insufficient_points", 409)
    assert refused.value.details == {"spendable": 799, "needed": 800}
    _nothing_written(member, 1)
    assert not ClaimTally.objects.filter(claimed__gt=0).exists()
    reward.campaign.refresh_from_db()
    assert reward.campaign.claimed_count == 0


def test_pending_points_cannot_be_spent() -> None:
    member = make_member()
    give_points(member, 5_000, holding_days=7)

    with pytest.raises(DomainError) as refused:
        reward_redeem(member=member, reward=make_reward(), idempotency_key="k", actor=member.user)

    assert refused.value.code == "insufficient_points"
    _nothing_written(member, 1)


def test_a_reward_above_the_members_tier_is_refused() -> None:
    TierRule.objects.create(tier=Tier.STANDARD, min_points=0)
    TierRule.objects.create(tier=Tier.GOLD, min_points=8_000)
    member = make_member(points=5_000)  # silver by the settings' default threshold (2,000)
    reward = make_reward(min_tier=Tier.GOLD)

    with pytest.raises(DomainError) as refused:
        reward_redeem(member=member, reward=reward, idempotency_key="k", actor=member.user)

    assert (refused.value.code, refused.value.status) == ("tier_too_low", 409)
    assert refused.value.details == {"tier": "silver", "required": "gold"}
    _nothing_written(member, 1)


def test_a_member_of_the_tier_may_redeem_it() -> None:
    member = make_member(points=9_000)  # qualifying points: gold by the settings' thresholds
    order = reward_redeem(
        member=member, reward=make_reward(min_tier=Tier.GOLD), idempotency_key="k", actor=member.user
    )
    assert order.status == RewardOrderStatus.ISSUED


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"reward": {"is_active": False}}, "off_sale"),
        ({"campaign": {"claimed_count": 50}}, "sold_out"),
        ({"campaign": {"starts_at_days": 2}}, "not_started"),
        ({"campaign": {"ends_at_days": -1}}, "ended"),
    ],
)
def test_a_reward_that_cannot_be_had_is_refused_with_its_reason(change, reason) -> None:
    member = make_member(points=5_000)
    reward = make_reward()
    now = clock.now()
    campaign_change = dict(change.get("campaign", {}))
    if "starts_at_days" in campaign_change:
        campaign_change = {"starts_at": now + timedelta(days=campaign_change.pop("starts_at_days"))}
        campaign_change["ends_at"] = now + timedelta(days=10)
    if "ends_at_days" in campaign_change:
        campaign_change = {
            "starts_at": now - timedelta(days=5),
            "ends_at": now + timedelta(days=campaign_change.pop("ends_at_days")),
        }
    if campaign_change:
        type(reward.campaign).objects.filter(pk=reward.campaign_id).update(**campaign_change)
    if "reward" in change:
        type(reward).objects.filter(pk=reward.pk).update(**change["reward"])
    reward.refresh_from_db()

    with pytest.raises(DomainError) as refused:
        reward_redeem(member=member, reward=reward, idempotency_key="k", actor=member.user)

    assert (refused.value.code, refused.value.status) == ("reward_unavailable", 409)
    assert refused.value.details["reason"] == reason
    _nothing_written(member, 1)


def test_the_per_member_limit_is_the_campaigns_per_person_limit() -> None:
    member = make_member(points=5_000)
    reward = make_reward(campaign=reward_campaign(per_person_limit=2), points_cost=100)
    for key in ("a", "b"):
        reward_redeem(member=member, reward=reward, idempotency_key=key, actor=member.user)

    with pytest.raises(DomainError) as refused:
        reward_redeem(member=member, reward=reward, idempotency_key="c", actor=member.user)

    assert refused.value.code == "reward_unavailable"
    assert refused.value.details == {"reason": "limit_reached", "limit": 2}
    assert RewardOrder.objects.count() == 2 and points_state(member).spendable == 4_800


def test_the_last_unit_goes_to_one_member_and_the_stock_is_never_exceeded() -> None:
    reward = make_reward(campaign=reward_campaign(budget_count=1))
    one, two = make_member(points=900), make_member(points=900)
    reward_redeem(member=one, reward=reward, idempotency_key="k", actor=one.user)

    with pytest.raises(DomainError) as refused:
        reward_redeem(member=two, reward=reward, idempotency_key="k", actor=two.user)

    assert refused.value.details["reason"] == "sold_out"
    assert points_state(two).spendable == 900
    reward.refresh_from_db()
    assert reward_stock_left(reward) == 0


def test_staff_cannot_redeem_rewards() -> None:
    staff = make_user(role=Role.OPS)
    member = member_for(staff)
    with pytest.raises(DomainError) as refused:
        reward_redeem(member=member, reward=make_reward(), idempotency_key="k", actor=staff)

    assert (refused.value.code, refused.value.status) == ("forbidden", 403)
    assert not RewardOrder.objects.exists()


def test_an_empty_idempotency_key_is_422() -> None:
    member = make_member(points=5_000)
    with pytest.raises(DomainError) as refused:
        reward_redeem(member=member, reward=make_reward(), idempotency_key="  ", actor=member.user)
    assert refused.value.status == 422
    assert not RewardOrder.objects.exists()


def test_the_rewards_campaign_cannot_be_claimed_for_free_through_offers() -> None:
    reward = make_reward()
    member = make_member()

    with pytest.raises(DomainError) as refused:
        campaign_claim(campaign=reward.campaign, holder=member.user, channel="app")

    assert refused.value.code == "not_eligible"
    assert not Voucher.objects.exists()


def test_the_reward_voucher_is_written_off_at_the_partner_merchant_like_any_voucher() -> None:
    merchant = make_merchant()
    counter = make_merchant_staff(merchant=merchant)
    member = make_member(points=1_000)
    order = reward_redeem(
        member=member,
        reward=make_reward(campaign=reward_campaign(merchant=merchant)),
        idempotency_key="k",
        actor=member.user,
    )

    redemption = voucher_redeem(staff=counter, text=order.voucher_code, idempotency_key="scan-1")

    assert (redemption.merchant_id, redemption.voucher.code) == (merchant.pk, order.voucher_code)
    assert Voucher.objects.get(code=order.voucher_code).status == VoucherStatus.REDEEMED
    with pytest.raises(DomainError) as again:
        voucher_redeem(staff=counter, text=order.voucher_code, idempotency_key="scan-2")
    assert again.value.code == "already_redeemed"
    assert Redemption.objects.count() == 1


def test_the_catalogue_lists_rewards_on_sale_and_the_wallet_shows_spendable_points_and_tier() -> None:
    on_sale = make_reward(title="洗车")
    make_reward(title="下架", is_active=False)
    ended = make_reward(title="已结束")
    type(ended.campaign).objects.filter(pk=ended.campaign_id).update(
        ends_at=clock.now() - timedelta(seconds=1)
    )
    member = make_member(points=2_500)

    assert list(rewards_on_offer()) == [on_sale]
    wallet = member_wallet(member.user)
    assert (wallet.is_member, wallet.spendable, wallet.tier) == (True, 2_500, Tier.SILVER)
    staff_wallet = member_wallet(make_user(role=Role.OPS))
    assert (staff_wallet.is_member, staff_wallet.spendable) == (False, 0)


def test_a_goods_reward_is_collected_and_written_off_at_any_dealer() -> None:
    advisor = make_staff()
    member = make_member(points=3_000)
    mug = make_reward(
        title="品牌定制保温杯",
        kind="goods",
        points_cost=2_500,
        campaign=reward_campaign(
            merchant=None, kind=CouponKind.GIFT, gift_description="品牌定制保温杯", face_value_fen=129_00
        ),
    )
    order = reward_redeem(member=member, reward=mug, idempotency_key="k", actor=member.user)

    redemption = voucher_redeem(staff=advisor, text=order.voucher_code, idempotency_key="scan-1")

    assert (redemption.dealer_id, redemption.value_fen) == (advisor.dealer_id, 129_00)
    assert Voucher.objects.get(code=order.voucher_code).status == VoucherStatus.REDEEMED
