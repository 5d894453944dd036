"""The offers sweeper: tidies up what reads already show (lapsed vouchers read "expired" anyway).

- active vouchers past their validity become `expired`;
- paid coupons still unpaid OFFERS_PAYMENT_MINUTES after the claim become `void` and give their share of
  the budget (and the person's tally) back, so others can claim it.

Each voucher moves by a conditional UPDATE on its status, so the sweeper and a payment (or a write-off)
arriving at the same moment cannot both win.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction

from forecourt.core import clock
from forecourt.core.events import event_record
from forecourt.offers.models import Voucher, VoucherStatus
from forecourt.offers.services.claims import SUBJECT_TYPE, budget_give_back

BATCH = 500


def vouchers_expire(*, limit: int = BATCH) -> int:
    """Mark active vouchers past their validity expired; returns how many."""
    moment = clock.now()
    lapsed = list(
        Voucher.objects.filter(status=VoucherStatus.ACTIVE, valid_until__lte=moment)
        .order_by("pk")
        .values_list("pk", "code")[:limit]
    )
    count = 0
    for pk, code in lapsed:
        with transaction.atomic():
            if Voucher.objects.filter(pk=pk, status=VoucherStatus.ACTIVE, valid_until__lte=moment).update(
                status=VoucherStatus.EXPIRED, updated_at=moment
            ):
                event_record("voucher.expired", subject_type=SUBJECT_TYPE, subject_id=code)
                count += 1
    return count


def vouchers_unpaid_void(*, limit: int = BATCH) -> int:
    """Void paid coupons nobody paid for in time and give their budget back; returns how many."""
    moment = clock.now()
    cutoff = moment - timedelta(minutes=settings.OFFERS_PAYMENT_MINUTES)
    stale = list(
        Voucher.objects.filter(status=VoucherStatus.PENDING_PAYMENT, created_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", "code", "campaign_id", "holder_id", "budget_fen")[:limit]
    )
    count = 0
    for pk, code, campaign_id, holder_id, budget_fen in stale:
        with transaction.atomic():
            voided = Voucher.objects.filter(pk=pk, status=VoucherStatus.PENDING_PAYMENT).update(
                status=VoucherStatus.VOID, voided_at=moment, void_reason="not paid in time", updated_at=moment
            )
            if not voided:
                continue  # paid (or voided) meanwhile
            budget_give_back(campaign_id=campaign_id, holder_id=holder_id, value_fen=budget_fen)
            event_record(
                "voucher.voided",
                subject_type=SUBJECT_TYPE,
                subject_id=code,
                payload={"reason": "unpaid", "budget_fen": budget_fen},
            )
            count += 1
    return count


def offers_sweep() -> dict[str, int]:
    """Run every tidy-up once; each part is idempotent and safe beside live traffic."""
    return {"vouchers_expired": vouchers_expire(), "unpaid_voided": vouchers_unpaid_void()}
