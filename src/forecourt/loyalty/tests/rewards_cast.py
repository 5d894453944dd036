"""The cast of the rewards tests: members holding points, rewards on switched-off offers campaigns at a
partner merchant, and the sandbox payment of a cash part."""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from typing import Any

from django.test import TestCase

# The subscribers that settle a cash part and react to withdrawn vouchers (LoyaltyConfig.ready imports
# them too; importing here keeps these tests independent of the app config).
from forecourt.loyalty import payment_subscribers  # noqa: F401
from forecourt.loyalty.models import Member, PointsEntry, Reward, RewardKind, RewardOrder
from forecourt.loyalty.services import member_for, points_earn
from forecourt.loyalty.services.rewards import PURPOSE
from forecourt.offers.models import Campaign, CouponKind, Merchant
from forecourt.offers.tests.factories import make_campaign, make_consumer, make_merchant
from forecourt.payments.models import PaymentIntent
from forecourt.payments.providers.sandbox import sandbox_notification_build
from forecourt.payments.selectors import payment_intents_for
from forecourt.payments.services import payment_notification_receive

_serial = count(1)


def committed() -> Any:
    """Run the on-commit callbacks (event delivery) the block registers when it ends."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def make_member(points: int = 0, **user_fields: Any) -> Member:
    """A consumer's member row holding `points` spendable points (earned just now)."""
    member = member_for(make_consumer(**user_fields))
    if points:
        give_points(member, points)
    return member


def give_points(member: Member, points: int, **fields: Any) -> PointsEntry:
    return points_earn(
        member=member,
        points=points,
        reason="test",
        idempotency_key=f"test-earn:{member.pk}:{next(_serial)}",
        **fields,
    )


def reward_campaign(merchant: Merchant | None = None, **fields: Any) -> Campaign:
    """A partner-service campaign kept switched off (nobody claims it directly; rewards issue it)."""
    values: dict[str, Any] = {
        "name": "积分兑换·精致洗车",
        "name_en": "Points reward: premium car wash",
        "kind": CouponKind.MERCHANT_SERVICE,
        "merchant": merchant or make_merchant(),
        "face_value_fen": 68_00,
        "budget_count": 50,
        "per_person_limit": 5,
        "valid_days": 30,
        "is_active": False,
    }
    values.update(fields)
    return make_campaign(**values)


def make_reward(*, campaign: Campaign | None = None, **fields: Any) -> Reward:
    values: dict[str, Any] = {
        "title": "精致洗车一次",
        "description": "洁车坊门店使用",
        "kind": RewardKind.SERVICE,
        "points_cost": 800,
        "cash_fen": 0,
    }
    values.update(fields)
    return Reward.objects.create(campaign=campaign or reward_campaign(), **values)


def intent_of(order: RewardOrder) -> PaymentIntent:
    [intent] = payment_intents_for(reference=order.public_id, purpose=PURPOSE)
    return intent


def notify(
    intent: PaymentIntent, *, status: str = "succeeded", suffix: str = "", amount_fen: int | None = None
) -> None:
    """The sandbox gateway reports the payment (delivered to subscribers as after a commit)."""
    headers, body = sandbox_notification_build(
        notification_id=f"SBN{intent.out_trade_no}{status.upper()}{suffix}",
        out_trade_no=intent.out_trade_no,
        trade_no=f"SBX{intent.out_trade_no}",
        amount_fen=intent.amount_fen if amount_fen is None else amount_fen,
        status=status,
    )
    with committed():
        outcome = payment_notification_receive(provider="sandbox", headers=headers, body=body, ip="127.0.0.1")
    assert outcome.accepted or outcome.duplicate, outcome.reason


def fresh(order: RewardOrder) -> RewardOrder:
    return RewardOrder.objects.get(pk=order.pk)


def later(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)
