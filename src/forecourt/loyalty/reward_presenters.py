"""How rewards and redemptions are shown in the API (and the facts the pages share with it).

Amounts are Money dicts (`{"amount": <fen>, "currency": "CNY"}`); a redemption's status is its status
now (an unpaid one past its payment window reads "cancelled"); its voucher is offers' own voucher shape,
QR payload included.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from forecourt.loyalty.models import Reward, RewardOrder, RewardOrderStatus, Tier
from forecourt.loyalty.reward_selectors import (
    Wallet,
    reward_order_cancel_reason,
    reward_order_deadline,
    reward_order_status,
    reward_stock_left,
    tier_reaches,
)
from forecourt.offers import selectors as offer_selectors
from forecourt.offers.models import Voucher
from forecourt.offers.presenters import campaign_headline, money_out, voucher_out


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def cancel_reason_text(reason: str) -> str:
    """What a cancelled redemption tells its member, by the reversal's reason code."""
    return {
        "reward_unpaid": _("The cash part was not paid in time; your points are back."),
        "reward_payment_failed": _("The payment did not go through; your points are back."),
        "reward_unavailable": _("The reward sold out while you were paying; points and money are back."),
        "reward_voucher_void": _("The voucher was voided; your points are back."),
        "reward_voucher_refunded": _("The voucher was refunded; your points are back."),
    }.get(reason, _("Cancelled; your points are back."))


def reward_out(reward: Reward, *, wallet: Wallet | None = None) -> dict[str, Any]:
    campaign = reward.campaign
    merchant = campaign.merchant
    answer: dict[str, Any] = {
        "id": reward.public_id,
        "title": reward.title,
        "description": reward.description,
        "kind": reward.kind,
        "points": reward.points_cost,
        "cash": money_out(reward.cash_fen) if reward.cash_fen else None,
        "value": campaign_headline(campaign),
        "min_tier": reward.min_tier,
        "min_tier_label": str(Tier(reward.min_tier).label),
        "merchant": (
            {
                "id": merchant.public_id,
                "name": merchant.display_name,
                "kind": merchant.kind,
                "address": merchant.address,
            }
            if merchant
            else None
        ),
        "conditions": campaign.display_conditions,
        "voucher_valid_days": campaign.valid_days,
        "available_until": _iso(campaign.ends_at),
        "stock_left": reward_stock_left(reward),
        "per_person_limit": campaign.per_person_limit,
    }
    if wallet is not None and wallet.is_member:
        answer["affordable"] = wallet.spendable >= reward.points_cost
        answer["tier_reached"] = tier_reaches(wallet.tier, reward.min_tier)
    return answer


def redemption_voucher(order: RewardOrder) -> Voucher | None:
    if not order.voucher_code:
        return None
    return offer_selectors.voucher_of_holder(order.member.user, order.voucher_code)


def redemption_out(order: RewardOrder) -> dict[str, Any]:
    status = reward_order_status(order)
    voucher = redemption_voucher(order)
    return {
        "id": order.public_id,
        "status": status,
        "reward": {"id": order.reward.public_id, "title": order.reward.title},
        "points": order.points,
        "cash": money_out(order.cash_fen) if order.cash_fen else None,
        "created_at": _iso(order.created_at),
        "pay_by": (
            _iso(reward_order_deadline(order)) if status == RewardOrderStatus.AWAITING_PAYMENT else None
        ),
        "cancel_reason": reward_order_cancel_reason(order) or None,
        "voucher": voucher_out(voucher) if voucher is not None else None,
    }
