"""PostgreSQL races on paid coupons: ten deliveries of one payment at once activate the coupon exactly
once; a payment and the sweeper voiding the unpaid coupon at once end with exactly one winner (active
and kept, or void with the money refunded and the budget given back). Each thread has its own connection."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connections

from forecourt.core import clock
from forecourt.core.models import Event
from forecourt.offers.models import Campaign, CouponKind, Voucher, VoucherStatus
from forecourt.offers.services import campaign_claim, voucher_pay_start, voucher_payment_credit
from forecourt.offers.services.paid import PURPOSE
from forecourt.offers.services.sweeps import vouchers_unpaid_void
from forecourt.offers.tests.factories import make_campaign, make_consumer
from forecourt.payments.models import IntentStatus, PaymentIntent, Refund
from forecourt.payments.selectors import payment_intents_for

POSTGRES = settings.DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (set DATABASE_URL=postgres://...)"),
    pytest.mark.django_db(transaction=True),
]

PRICE = 99_00


def _race(jobs: list[Callable[[], Any]]) -> Counter[str]:
    """Every job starts at once in its own thread; what each returned (or raised) is counted."""
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            try:
                result = f"ok:{job()!r}"
            except Exception as error:  # anything raised is a bug the assertions will show
                result = f"error:{type(error).__name__}"
            with lock:
                outcomes[result] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _paid_coupon_awaiting_payment(campaign: Campaign) -> tuple[Voucher, PaymentIntent]:
    """A claimed paid coupon and its sandbox intent, which payments has recorded as succeeded."""
    voucher = campaign_claim(campaign=campaign.public_id, holder=make_consumer())
    voucher_pay_start(voucher=voucher, provider="sandbox", return_url="/offers/mine/", actor=voucher.holder)
    intent = payment_intents_for(reference=voucher.code, purpose=PURPOSE)[-1]
    PaymentIntent.objects.filter(pk=intent.pk).update(status=IntentStatus.SUCCEEDED, paid_at=clock.now())
    return voucher, PaymentIntent.objects.get(pk=intent.pk)


def _credit(voucher: Voucher, intent: PaymentIntent) -> Callable[[], str]:
    def job() -> str:
        credited = voucher_payment_credit(intent=intent.public_id, reference=voucher.code, amount_fen=PRICE)
        return credited.status if credited is not None else "none"

    return job


def test_ten_deliveries_of_one_payment_at_once_activate_the_coupon_exactly_once() -> None:
    campaign = make_campaign(
        kind=CouponKind.PAID_MULTIPLIER, price_fen=PRICE, face_value_fen=2_000_00, budget_count=5
    )
    voucher, intent = _paid_coupon_awaiting_payment(campaign)

    outcomes = _race([_credit(voucher, intent) for _ in range(10)])

    assert outcomes == Counter({"ok:'active'": 10})
    voucher = Voucher.objects.get(pk=voucher.pk)
    assert (voucher.status, voucher.payment_intent) == (VoucherStatus.ACTIVE, intent.public_id)
    assert Event.objects.filter(name="voucher.paid", subject_id=voucher.code).count() == 1
    assert not Event.objects.filter(name="voucher.payment_returned").exists()
    assert not Refund.objects.exists()
    assert Campaign.objects.get(pk=campaign.pk).claimed_count == 1


def test_a_payment_and_the_sweeper_at_once_leave_one_winner_and_never_a_kept_coupon_refunded() -> None:
    campaign = make_campaign(
        kind=CouponKind.PAID_MULTIPLIER, price_fen=PRICE, face_value_fen=2_000_00, budget_count=50
    )
    rounds = 5
    for _round in range(rounds):
        voucher, intent = _paid_coupon_awaiting_payment(campaign)
        # Claimed long enough ago that the sweeper may void it for non-payment.
        Voucher.objects.filter(pk=voucher.pk).update(
            created_at=clock.now() - timedelta(minutes=settings.OFFERS_PAYMENT_MINUTES + 1)
        )

        outcomes = _race([_credit(voucher, intent), vouchers_unpaid_void])

        voucher = Voucher.objects.get(pk=voucher.pk)
        refunds = list(Refund.objects.filter(intent=intent).values_list("amount_fen", flat=True))
        if voucher.status == VoucherStatus.ACTIVE:
            # The payment won: the sweeper voided nothing and no money went back.
            assert outcomes == Counter({"ok:'active'": 1, "ok:0": 1})
            assert refunds == []
        else:
            # The sweeper won: the coupon is void and the late payment was refunded in full.
            assert voucher.status == VoucherStatus.VOID
            assert outcomes == Counter({"ok:'void'": 1, "ok:1": 1})
            assert refunds == [PRICE]
            assert Event.objects.filter(name="voucher.payment_returned", subject_id=voucher.code).count() == 1
    active = Voucher.objects.filter(campaign=campaign, status=VoucherStatus.ACTIVE).count()
    # Every voided coupon gave its share of the budget back.
    assert Campaign.objects.get(pk=campaign.pk).claimed_count == active
    assert Event.objects.filter(name="voucher.paid").count() == active
