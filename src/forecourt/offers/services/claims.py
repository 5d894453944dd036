"""Claiming a coupon: the per-person limit and the campaign budget are taken by conditional UPDATEs.

Inside one transaction: the person's tally row first (it serialises one person's concurrent claims),
then the campaign's budget row last, so the hot row is locked only for the voucher insert and the commit.
Either UPDATE matching no row means the limit or the budget is used up; the transaction rolls back and
nothing is half-taken.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from forecourt.accounts.models import Role, User
from forecourt.core import clock
from forecourt.core.errors import CoreErrorCode, DomainError, NotFound
from forecourt.core.events import event_record
from forecourt.offers.errors import OfferErrorCode, field_error
from forecourt.offers.models import (
    Campaign,
    Channel,
    ClaimTally,
    CouponKind,
    Voucher,
    VoucherStatus,
)

SUBJECT_TYPE = "voucher"
# Who may hold vouchers: people, not staff accounts.
HOLDER_ROLES = frozenset({Role.CONSUMER, Role.BROKER})


def not_eligible(message: str, reason: str) -> DomainError:
    return DomainError(OfferErrorCode.NOT_ELIGIBLE, message, status=409, details={"reason": reason})


def budget_exhausted() -> DomainError:
    return DomainError(
        OfferErrorCode.BUDGET_EXHAUSTED, _("This campaign's coupons have all been claimed."), status=409
    )


def limit_reached(limit: int) -> DomainError:
    return DomainError(
        OfferErrorCode.LIMIT_REACHED,
        _("You have already claimed the most this campaign allows (%(limit)s per person).")
        % {"limit": limit},
        status=409,
        details={"limit": limit},
    )


def campaign_for_claim(public_id: str) -> Campaign:
    campaign = Campaign.objects.filter(public_id=str(public_id)[:32]).first()
    if campaign is None:
        raise NotFound(_("No such campaign."))
    return campaign


def claim_eligibility_check(*, campaign: Campaign, holder: User, channel: str, at: datetime) -> None:
    """Raise `not_eligible` (409) with a reason when this person may not claim from this campaign now."""
    if holder.role not in HOLDER_ROLES:
        raise not_eligible(_("Coupons are for customers; staff accounts cannot claim them."), "role")
    if campaign.kind == CouponKind.SUBSIDY:
        raise not_eligible(_("Subsidies are granted by application, not claimed."), "subsidy")
    if not campaign.is_active or at < campaign.starts_at:
        raise not_eligible(_("This campaign has not started."), "not_started")
    if at >= campaign.ends_at:
        raise not_eligible(_("This campaign has ended."), "ended")
    if campaign.channels and channel not in campaign.channels:
        raise not_eligible(_("This coupon cannot be claimed through this channel."), "channel")


def voucher_validity(campaign: Campaign, at: datetime) -> tuple[datetime, datetime]:
    until = at + timedelta(days=campaign.valid_days)
    if campaign.valid_until is not None:
        until = min(until, campaign.valid_until)
    if until <= at:
        raise not_eligible(_("This campaign's coupons are no longer valid."), "expired")
    return at, until


def _tally_take(campaign: Campaign, holder: User) -> None:
    tally = ClaimTally.objects.filter(campaign=campaign, holder=holder).first()
    if tally is None:
        try:
            with transaction.atomic():
                tally = ClaimTally.objects.create(campaign=campaign, holder=holder, claimed=0)
        except IntegrityError:  # a concurrent first claim by the same person created it
            tally = ClaimTally.objects.get(campaign=campaign, holder=holder)
    taken = ClaimTally.objects.filter(pk=tally.pk, claimed__lt=campaign.per_person_limit).update(
        claimed=F("claimed") + 1
    )
    if not taken:
        raise limit_reached(campaign.per_person_limit)


def _budget_take(campaign: Campaign, value_fen: int) -> None:
    condition = Q(pk=campaign.pk)
    if campaign.budget_count is not None:
        condition &= Q(claimed_count__lt=F("budget_count"))
    if campaign.budget_fen is not None:
        condition &= Q(claimed_fen__lte=F("budget_fen") - value_fen)
    taken = Campaign.objects.filter(condition).update(
        claimed_count=F("claimed_count") + 1, claimed_fen=F("claimed_fen") + value_fen
    )
    if not taken:
        raise budget_exhausted()


def budget_give_back(*, campaign_id: int, holder_id: int, value_fen: int) -> None:
    """Undo one claim (an unpaid paid coupon, a refunded one): the budget and the person's tally."""
    Campaign.objects.filter(pk=campaign_id, claimed_count__gt=0, claimed_fen__gte=value_fen).update(
        claimed_count=F("claimed_count") - 1, claimed_fen=F("claimed_fen") - value_fen
    )
    ClaimTally.objects.filter(campaign_id=campaign_id, holder_id=holder_id, claimed__gt=0).update(
        claimed=F("claimed") - 1
    )


def voucher_issue(
    *,
    campaign: Campaign,
    holder: User,
    channel: str,
    at: datetime,
    status: str = VoucherStatus.ACTIVE,
    actor: User | None = None,
    extra: dict[str, Any] | None = None,
) -> Voucher:
    """Take the tally and the budget, then create the voucher; call inside a transaction."""
    valid_from, valid_until = voucher_validity(campaign, at)
    value_fen = campaign.budget_value_fen
    _tally_take(campaign, holder)
    fields: dict[str, Any] = {
        "campaign": campaign,
        "holder": holder,
        "kind": campaign.kind,
        "status": status,
        "face_value_fen": campaign.face_value_fen,
        "percent_off_bp": campaign.percent_off_bp,
        "percent_cap_fen": campaign.percent_cap_fen,
        "budget_fen": value_fen,
        "price_fen": campaign.price_fen,
        "channel": channel,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "created_at": at,
        "updated_at": at,
        **(extra or {}),
    }
    # The budget row is the hot one: take it last, just before the insert and the commit.
    _budget_take(campaign, value_fen)
    voucher = Voucher.objects.create(**fields)
    event_record(
        "voucher.claimed",
        subject_type=SUBJECT_TYPE,
        subject_id=voucher.code,
        actor=actor or holder,
        payload={
            "campaign": campaign.public_id,
            "kind": voucher.kind,
            "holder": holder.public_id,
            "channel": channel,
            "value_fen": value_fen,
            "status": voucher.status,
        },
    )
    return voucher


def campaign_claim(*, campaign: Campaign | str, holder: User, channel: str = Channel.WEB) -> Voucher:
    """Claim one voucher from a campaign for `holder`; 409 `not_eligible`, `limit_reached` or
    `budget_exhausted` when it cannot be had. A paid coupon starts awaiting payment (and must be paid
    within OFFERS_PAYMENT_MINUTES) and becomes active when its payment succeeds."""
    at = clock.now()
    if isinstance(campaign, str):
        campaign = campaign_for_claim(campaign)
    if channel not in Channel.values:
        raise field_error(
            CoreErrorCode.INVALID,
            "channel",
            _("Choose one of: %(allowed)s.") % {"allowed": ", ".join(Channel.values)},
        )
    claim_eligibility_check(campaign=campaign, holder=holder, channel=channel, at=at)
    status = VoucherStatus.ACTIVE
    if campaign.kind == CouponKind.PAID_MULTIPLIER and campaign.price_fen > 0:
        status = VoucherStatus.PENDING_PAYMENT
    with transaction.atomic():
        return voucher_issue(campaign=campaign, holder=holder, channel=channel, at=at, status=status)


def payment_deadline(voucher: Voucher) -> datetime:
    return voucher.created_at + timedelta(minutes=settings.OFFERS_PAYMENT_MINUTES)
