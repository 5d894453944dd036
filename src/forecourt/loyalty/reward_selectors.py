"""Reads of the rewards catalogue: what is on offer, what a member can spend, and their redemptions.

A redemption's status is read as it stands now: a points + cash redemption whose payment window has
passed reads "cancelled" (its points are already counted as spendable again) before the sweeper writes
the reversal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from forecourt.core import clock
from forecourt.loyalty.ledger import replay
from forecourt.loyalty.models import TIER_ORDER, Member, PointsEntry, Reward, RewardOrder, RewardOrderStatus
from forecourt.loyalty.selectors import (
    ledger_lines,
    member_is_eligible,
    member_of,
    member_tier_progress,
    tier_label,
)


def rewards_on_offer(at: datetime | None = None) -> QuerySet[Reward]:
    """Rewards on sale now (their campaign's window open), in catalogue order."""
    moment = at or clock.now()
    return (
        Reward.objects.filter(is_active=True, campaign__starts_at__lte=moment, campaign__ends_at__gt=moment)
        .filter(Q(campaign__valid_until__isnull=True) | Q(campaign__valid_until__gt=moment))
        .select_related("campaign", "campaign__merchant")
    )


def reward_public(public_id: str) -> Reward | None:
    """A reward on sale (even if its window has not opened or is sold out); None otherwise."""
    return (
        Reward.objects.filter(public_id=str(public_id)[:32], is_active=True)
        .select_related("campaign", "campaign__merchant")
        .first()
    )


def reward_stock_left(reward: Reward) -> int | None:
    """Units the reward's campaign can still issue (None: unlimited); read, never reserved."""
    campaign = reward.campaign
    if campaign.budget_count is None:
        return None
    return max(campaign.budget_count - campaign.claimed_count, 0)


def tier_reaches(tier: str, required: str) -> bool:
    return TIER_ORDER.index(tier) >= TIER_ORDER.index(required)


def _lapse_cutoff(at: datetime) -> datetime:
    return at - timedelta(minutes=settings.LOYALTY_PAYMENT_MINUTES)


def unpaid_points_lapsed(member: Member, at: datetime | None = None) -> int:
    """Points held by the member's points + cash redemptions whose payment window passed (coming back)."""
    moment = at or clock.now()
    orders = RewardOrder.objects.filter(
        member=member, status=RewardOrderStatus.AWAITING_PAYMENT, created_at__lte=_lapse_cutoff(moment)
    )
    return sum(orders.values_list("points", flat=True))


@dataclass(frozen=True)
class Wallet:
    """What a person brings to the catalogue: spendable points and tier (none when not a member)."""

    is_member: bool
    spendable: int
    pending: int
    tier: str
    tier_label: str
    number: str = ""


def member_wallet(user: Any, at: datetime | None = None) -> Wallet:
    """The person's spendable points (with lapsed unpaid redemptions already given back) and tier."""
    moment = at or clock.now()
    member = member_of(user) if member_is_eligible(user) else None
    progress = member_tier_progress(member, moment)
    if member is None:
        return Wallet(
            is_member=member_is_eligible(user),
            spendable=0,
            pending=0,
            tier=progress.tier,
            tier_label=progress.label,
        )
    state = replay(ledger_lines(member), moment)
    return Wallet(
        is_member=True,
        spendable=state.spendable + unpaid_points_lapsed(member, moment),
        pending=state.pending,
        tier=progress.tier,
        tier_label=progress.label,
        number=member.number,
    )


def reward_orders_of(member: Member) -> QuerySet[RewardOrder]:
    """The member's redemptions, newest first."""
    return RewardOrder.objects.filter(member=member).select_related(
        "reward", "reward__campaign", "reward__campaign__merchant", "member__user"
    )


def reward_order_of(user: Any, public_id: str) -> RewardOrder | None:
    """The person's own redemption by its id; None for an unknown id and for someone else's alike."""
    member = member_of(user)
    if member is None:
        return None
    return reward_orders_of(member).filter(public_id=str(public_id)[:32]).first()


def reward_order_deadline(order: RewardOrder) -> datetime:
    return order.created_at + timedelta(minutes=settings.LOYALTY_PAYMENT_MINUTES)


def reward_order_status(order: RewardOrder, at: datetime | None = None) -> str:
    """The redemption's status now: an unpaid one past its payment window reads "cancelled"."""
    moment = at or clock.now()
    if order.status == RewardOrderStatus.AWAITING_PAYMENT and reward_order_deadline(order) <= moment:
        return RewardOrderStatus.CANCELLED
    return order.status


def reward_order_cancel_reason(order: RewardOrder, at: datetime | None = None) -> str:
    """Why a redemption was cancelled: the reason code of the reversal that gave its points back."""
    if reward_order_status(order, at) != RewardOrderStatus.CANCELLED:
        return ""
    reason = PointsEntry.objects.filter(reverses_id=order.entry_id).values_list("reason", flat=True).first()
    return reason or "reward_unpaid"


__all__ = [
    "Wallet",
    "member_wallet",
    "reward_order_cancel_reason",
    "reward_order_deadline",
    "reward_order_of",
    "reward_order_status",
    "reward_orders_of",
    "reward_public",
    "reward_stock_left",
    "rewards_on_offer",
    "tier_label",
    "tier_reaches",
    "unpaid_points_lapsed",
]
