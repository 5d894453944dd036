"""The offers app's reads. Other apps, the API and the pages call these (and only these).

A voucher's expiry is evaluated when it is read (`voucher_effective_status`); the sweeper only tidies.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from forecourt.accounts.models import User
from forecourt.core import clock
from forecourt.offers.models import Campaign, Voucher, VoucherStatus

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
