"""The sweeper: lapsed vouchers become expired, unpaid paid coupons void with their budget given back."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from forecourt.core import clock
from forecourt.core.models import Event
from forecourt.offers.models import ClaimTally, CouponKind, Voucher, VoucherStatus
from forecourt.offers.services import campaign_claim, offers_sweep
from forecourt.offers.tests.factories import make_campaign, make_consumer

pytestmark = pytest.mark.django_db


def test_lapsed_active_vouchers_expire_and_others_stay() -> None:
    person = make_consumer()
    short = campaign_claim(campaign=make_campaign(valid_days=1), holder=person)
    long = campaign_claim(campaign=make_campaign(valid_days=10), holder=person)
    with clock.frozen_at(clock.now() + timedelta(days=2)):
        assert offers_sweep() == {"vouchers_expired": 1, "unpaid_voided": 0}
        assert offers_sweep() == {"vouchers_expired": 0, "unpaid_voided": 0}
    assert Voucher.objects.get(pk=short.pk).status == VoucherStatus.EXPIRED
    assert Voucher.objects.get(pk=long.pk).status == VoucherStatus.ACTIVE
    assert Event.objects.filter(name="voucher.expired").count() == 1


def test_unpaid_paid_coupons_are_voided_after_the_window_and_give_their_budget_back() -> None:
    campaign = make_campaign(
        kind=CouponKind.PAID_MULTIPLIER, price_fen=99_00, budget_count=1, budget_fen=2_000_00
    )
    person = make_consumer()
    voucher = campaign_claim(campaign=campaign, holder=person)
    with clock.frozen_at(clock.now() + timedelta(minutes=29)):
        assert offers_sweep()["unpaid_voided"] == 0
    with clock.frozen_at(clock.now() + timedelta(minutes=31)):
        assert offers_sweep()["unpaid_voided"] == 1
    voided = Voucher.objects.get(pk=voucher.pk)
    assert voided.status == VoucherStatus.VOID and voided.voided_at is not None
    campaign.refresh_from_db()
    assert (campaign.claimed_count, campaign.claimed_fen) == (0, 0)
    assert ClaimTally.objects.get(campaign=campaign, holder=person).claimed == 0
    # The freed budget can be claimed again.
    assert campaign_claim(campaign=campaign, holder=make_consumer()).status == VoucherStatus.PENDING_PAYMENT


def test_the_management_command_prints_the_counts() -> None:
    out = StringIO()
    call_command("offers_sweep", stdout=out)
    assert out.getvalue().strip() == "vouchers_expired=0 unpaid_voided=0"
