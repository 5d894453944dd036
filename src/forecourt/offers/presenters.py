"""How campaigns and vouchers are shown to their holders, in the API and on the pages.

Amounts are Money dicts (`{"amount": <fen>, "currency": "CNY"}`); a voucher's status is its effective
status (a lapsed one reads "expired" before the sweeper tidies it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from forecourt.core.money import Money
from forecourt.offers.models import (
    Campaign,
    CouponKind,
    Redemption,
    SubsidyApplication,
    Voucher,
    VoucherStatus,
)
from forecourt.offers.qr import qr_payload
from forecourt.offers.selectors import voucher_effective_status, voucher_standing_redemption
from forecourt.offers.services.claims import payment_deadline

CURRENCY = "CNY"


def money_out(amount_fen: int) -> dict[str, Any]:
    return Money(int(amount_fen), CURRENCY).as_dict()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def campaign_remaining_percent(campaign: Campaign) -> int | None:
    """What is left of the budget, in whole percent (the scarcer of count and money); None if unlimited."""
    shares: list[float] = []
    if campaign.budget_count:
        shares.append(1 - campaign.claimed_count / campaign.budget_count)
    if campaign.budget_fen:
        shares.append(1 - campaign.claimed_fen / campaign.budget_fen)
    if not shares:
        return None
    return max(0, min(100, int(min(shares) * 100)))


def campaign_headline(campaign: Campaign | Voucher) -> str:
    """The value in a few words: "¥5,000 off", "5% off, up to ¥8,000", "Pay ¥99, get ¥2,000 off"."""
    source = campaign
    kind = source.kind
    face = Money(source.face_value_fen, CURRENCY)
    if kind == CouponKind.PERCENT_OFF:
        percent = source.percent_off_bp / 100
        shown = f"{percent:g}"
        return _("%(percent)s%% off, up to %(cap)s") % {
            "percent": shown,
            "cap": Money(source.percent_cap_fen, CURRENCY),
        }
    if kind == CouponKind.PAID_MULTIPLIER and source.price_fen:
        return _("Pay %(price)s, get %(value)s off") % {
            "price": Money(source.price_fen, CURRENCY),
            "value": face,
        }
    if kind == CouponKind.GIFT:
        campaign_row = source if isinstance(source, Campaign) else source.campaign
        return campaign_row.display_gift or _("Gift worth %(value)s") % {"value": face}
    if kind == CouponKind.MERCHANT_SERVICE:
        return _("%(value)s service voucher") % {"value": face}
    return _("%(value)s off") % {"value": face}


def campaign_out(campaign: Campaign) -> dict[str, Any]:
    merchant = campaign.merchant
    return {
        "id": campaign.public_id,
        "name": campaign.display_name,
        "kind": campaign.kind,
        "headline": campaign_headline(campaign),
        "description": campaign.display_description,
        "conditions": campaign.display_conditions,
        "value": money_out(campaign.face_value_fen),
        "percent_off_bp": campaign.percent_off_bp,
        "cap": money_out(campaign.percent_cap_fen) if campaign.kind == CouponKind.PERCENT_OFF else None,
        "price": money_out(campaign.price_fen) if campaign.price_fen else None,
        "gift": campaign.display_gift,
        "merchant": (
            {"id": merchant.public_id, "name": merchant.display_name, "kind": merchant.kind}
            if merchant
            else None
        ),
        "starts_at": _iso(campaign.starts_at),
        "ends_at": _iso(campaign.ends_at),
        "valid_days": campaign.valid_days,
        "valid_until": _iso(campaign.valid_until),
        "per_person_limit": campaign.per_person_limit,
        "remaining_percent": campaign_remaining_percent(campaign),
        "channels": list(campaign.channels or []),
        "eligibility": {
            "models": list(campaign.eligible_models or []),
            "trims": list(campaign.eligible_trims or []),
            "cities": list(campaign.eligible_cities or []),
            "dealers": list(campaign.eligible_dealers or []),
        },
        "exclusive": campaign.exclusive,
        "stackable_with": sorted(other.public_id for other in campaign.stackable_with.all()),
        "max_order_discount": (
            money_out(campaign.max_order_discount_fen)
            if campaign.max_order_discount_fen is not None
            else None
        ),
    }


def voucher_qr(voucher: Voucher) -> str:
    """The signed payload a store scans (see offers.qr)."""
    return qr_payload(
        code=voucher.code,
        holder_public_id=voucher.holder.public_id,
        valid_until_epoch=int(voucher.valid_until.timestamp()),
    )


def application_voucher(application: SubsidyApplication) -> Voucher | None:
    """The subsidy voucher an approved application was granted; None before (or without) approval."""
    try:
        return application.voucher
    except Voucher.DoesNotExist:
        return None


def redemption_out(redemption: Redemption | None) -> dict[str, Any] | None:
    if redemption is None:
        return None
    return {"redeemed_at": _iso(redemption.redeemed_at), "place": redemption.place}


def voucher_out(voucher: Voucher, *, redemption: Redemption | None = None) -> dict[str, Any]:
    campaign = voucher.campaign
    status = voucher_effective_status(voucher)
    if redemption is None and status == VoucherStatus.REDEEMED:
        redemption = voucher_standing_redemption(voucher)
    return {
        "code": voucher.code,
        "display_code": voucher.display_code,
        "qr": voucher_qr(voucher),
        "kind": voucher.kind,
        "campaign": {"id": campaign.public_id, "name": campaign.display_name},
        "headline": campaign_headline(voucher),
        "value": money_out(voucher.face_value_fen),
        "percent_off_bp": voucher.percent_off_bp,
        "cap": money_out(voucher.percent_cap_fen) if voucher.kind == CouponKind.PERCENT_OFF else None,
        "price": money_out(voucher.price_fen) if voucher.price_fen else None,
        "conditions": campaign.display_conditions,
        "valid_from": _iso(voucher.valid_from),
        "valid_until": _iso(voucher.valid_until),
        "status": status,
        "claimed_at": _iso(voucher.created_at),
        "paid_at": _iso(voucher.paid_at),
        "pay_by": _iso(payment_deadline(voucher)) if status == VoucherStatus.PENDING_PAYMENT else None,
        "order": voucher.order_reference or None,
        "redemption": redemption_out(redemption),
        "voided_at": _iso(voucher.voided_at),
    }
