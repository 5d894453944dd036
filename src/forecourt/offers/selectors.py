"""The offers app's reads. Other apps, the API and the pages call these (and only these).

A voucher's expiry is evaluated when it is read (`voucher_effective_status`); the sweeper only tidies.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from forecourt.accounts.models import User
from forecourt.core import clock
from forecourt.offers.models import (
    Campaign,
    Redemption,
    SubsidyApplication,
    SubsidyProgramme,
    Voucher,
    VoucherStatus,
)

# Statuses that lapse when the validity ends (an applied voucher is kept by its order).
LAPSING: frozenset[str] = frozenset({VoucherStatus.ACTIVE, VoucherStatus.PENDING_PAYMENT})


def voucher_effective_status(voucher: Voucher, at: datetime | None = None) -> str:
    moment = at or clock.now()
    if voucher.status in LAPSING and voucher.valid_until <= moment:
        return VoucherStatus.EXPIRED
    return voucher.status


def campaigns_running(at: datetime | None = None) -> QuerySet[Campaign]:
    moment = at or clock.now()
    return Campaign.objects.filter(is_active=True, starts_at__lte=moment, ends_at__gt=moment).exclude(
        kind="subsidy"
    )


def vouchers_of(holder: User) -> QuerySet[Voucher]:
    return Voucher.objects.filter(holder=holder).select_related("campaign", "campaign__merchant")


def vouchers_usable_by(holder: User, at: datetime | None = None) -> QuerySet[Voucher]:
    moment = at or clock.now()
    return vouchers_of(holder).filter(Q(status=VoucherStatus.ACTIVE) & Q(valid_until__gt=moment))


# ---- The holder's pages and API (consumer) ------------------------------------------------------------

# The tabs of "my coupons": what can still be used, what was used, and what can no longer be used.
VOUCHER_TABS = ("active", "used", "expired")


def vouchers_in_tab(holder: User, tab: str, at: datetime | None = None) -> QuerySet[Voucher]:
    """The holder's vouchers in one tab, judged by their effective status (expiry is read, not swept)."""
    moment = at or clock.now()
    lapsing = [str(status) for status in LAPSING]
    if tab == "active":
        condition = Q(status=VoucherStatus.APPLIED) | Q(status__in=lapsing, valid_until__gt=moment)
    elif tab == "used":
        condition = Q(status=VoucherStatus.REDEEMED)
    elif tab == "expired":
        condition = Q(status__in=[VoucherStatus.EXPIRED, VoucherStatus.VOID, VoucherStatus.REFUNDED]) | Q(
            status__in=lapsing, valid_until__lte=moment
        )
    else:
        raise ValueError(f"unknown voucher tab {tab!r}")
    return vouchers_of(holder).filter(condition)


def voucher_of_holder(holder: User, code: str) -> Voucher | None:
    """The holder's own voucher by its code; None for an unknown code and for someone else's alike."""
    return vouchers_of(holder).filter(code=code).first()


def voucher_standing_redemption(voucher: Voucher) -> Redemption | None:
    """The write-off that stands for this voucher (not reversed), if any."""
    return (
        Redemption.objects.filter(voucher=voucher, reversed_at__isnull=True)
        .select_related("dealer", "merchant")
        .first()
    )


def campaign_public(public_id: str) -> Campaign | None:
    """A campaign people may see (active, not a subsidy pool); None otherwise."""
    return (
        Campaign.objects.filter(public_id=str(public_id)[:32], is_active=True)
        .exclude(kind="subsidy")
        .select_related("merchant")
        .first()
    )


def vouchers_on_order(order_reference: str) -> QuerySet[Voucher]:
    """The vouchers standing on an order (applied to it or written off against it), in the order applied."""
    return (
        Voucher.objects.select_related("campaign")
        .filter(order_reference=order_reference, status__in=[VoucherStatus.APPLIED, VoucherStatus.REDEEMED])
        .order_by("applied_at", "pk")
    )


# ---- Subsidy programmes ---------------------------------------------------------------------------------


def subsidy_programmes_open(at: datetime | None = None) -> QuerySet[SubsidyProgramme]:
    """Programmes taking applications now."""
    moment = at or clock.now()
    return SubsidyProgramme.objects.filter(
        opens_at__lte=moment, closes_at__gt=moment, campaign__is_active=True
    ).select_related("campaign", "city")


def subsidy_programme_find(public_id: str) -> SubsidyProgramme | None:
    return (
        SubsidyProgramme.objects.select_related("campaign", "city")
        .filter(public_id=str(public_id)[:32])
        .first()
    )


def subsidy_applications_of(applicant: User) -> QuerySet[SubsidyApplication]:
    """The person's own applications, newest first, with the voucher issued for each (if any)."""
    return SubsidyApplication.objects.filter(applicant=applicant).select_related(
        "programme", "intended_model", "voucher"
    )


def subsidy_applications_for_review(
    *, programme: SubsidyProgramme | None = None, status: str = ""
) -> QuerySet[SubsidyApplication]:
    """Applications for ops to review, oldest submitted first."""
    queryset = SubsidyApplication.objects.select_related(
        "programme", "applicant", "intended_model", "intended_trim", "voucher", "decided_by"
    ).order_by("submitted_at", "id")
    if programme is not None:
        queryset = queryset.filter(programme=programme)
    if status:
        queryset = queryset.filter(status=status)
    return queryset
