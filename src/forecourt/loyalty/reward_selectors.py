"""Reads of the rewards catalogue: what is on offer, what a member can spend, and their redemptions.

A redemption's status is read as it stands now: a points + cash redemption whose payment window has
passed reads "cancelled", and its points count as spendable again (`member_points_state`, which the
member's pages and the catalogue both read) before the sweeper writes the reversal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from forecourt.core import clock
from forecourt.loyalty.ledger import LedgerState, Line, replay
from forecourt.loyalty.models import (
    TIER_ORDER,
    EntryKind,
    Member,
    PointsEntry,
    Reward,
    RewardOrder,
    RewardOrderStatus,
)
from forecourt.loyalty.selectors import (
    ledger_lines,
    member_is_eligible,
    member_of,
    member_tier_progress,
    points_expiry_for,
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


def rewards_with_claimable_campaign() -> list[Reward]:
    """Rewards whose voucher campaign was switched on in offers (anyone could claim it there for free)."""
    return list(Reward.objects.filter(campaign__is_active=True).order_by("title", "pk"))


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


def reward_payment_cutoff(at: datetime) -> datetime:
    """A points + cash redemption made at or before this moment is past its payment window at `at`."""
    return at - timedelta(minutes=settings.LOYALTY_PAYMENT_MINUTES)


def member_points_state(member: Member, at: datetime | None = None) -> LedgerState:
    """The member's points as they stand: the ledger, with the points of each points + cash redemption
    whose payment window passed already back (as the reversal the sweeper writes later will give them)."""
    moment = at or clock.now()
    lines = ledger_lines(member)
    lapsed = RewardOrder.objects.filter(
        member=member,
        status=RewardOrderStatus.AWAITING_PAYMENT,
        created_at__lte=reward_payment_cutoff(moment),
    )
    for order in lapsed.only("pk", "entry_id", "points", "created_at"):
        back_at = reward_order_deadline(order)
        # A negative id: a line of this read only, never a ledger entry's.
        lines.append(
            Line(
                id=-order.pk,
                kind=EntryKind.REVERSAL,
                points=order.points,
                occurred_at=back_at,
                available_at=back_at,
                expires_at=points_expiry_for(back_at),
                reverses_id=order.entry_id,
            )
        )
    return replay(lines, moment)


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
    state = member_points_state(member, moment)
    return Wallet(
        is_member=True,
        spendable=state.spendable,
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
    "member_points_state",
    "member_wallet",
    "reward_order_cancel_reason",
    "reward_order_deadline",
    "reward_order_of",
    "reward_order_status",
    "reward_orders_of",
    "reward_payment_cutoff",
    "reward_public",
    "reward_stock_left",
    "rewards_on_offer",
    "rewards_with_claimable_campaign",
    "tier_label",
    "tier_reaches",
]
