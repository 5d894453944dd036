"""The offers demo data: on a fresh database after the upstream seeds, campaigns of every kind, merchants
with logins, price floors, and the demo consumer's vouchers in every state. One test: seeding is slow."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from forecourt.accounts import demo_data as accounts_demo
from forecourt.accounts.models import User
from forecourt.catalog import demo_data as catalog_demo
from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.core.demo_people import DEMO_CONSUMER_PHONE
from forecourt.core.phones import normalise_mainland_mobile, phone_hash
from forecourt.dealers import demo_data as dealers_demo
from forecourt.offers import demo_data
from forecourt.offers.models import (
    Campaign,
    CouponKind,
    PriceFloor,
    Redemption,
    SubsidyApplication,
    Voucher,
    VoucherStatus,
)
from forecourt.offers.selectors import voucher_effective_status
from forecourt.offers.tests.subsidy_fixtures import *  # noqa: F403  (the autouse `media` fixture)
from forecourt.orders import demo_data as orders_demo
from forecourt.orders.models import Order, OrderStatus

pytestmark = pytest.mark.django_db

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


def test_demo_offers_cover_every_kind_and_every_voucher_state() -> None:
    rng = random.Random(7)
    with clock.frozen_at(MONDAY_10):
        for module in (dealers_demo, catalog_demo, accounts_demo, orders_demo, demo_data):
            module.seed(rng=rng)
        consumer = User.objects.get(phone_hash=phone_hash(normalise_mainland_mobile(DEMO_CONSUMER_PHONE)))
        states = {voucher_effective_status(voucher) for voucher in Voucher.objects.filter(holder=consumer)}
        running = {campaign.kind for campaign in Campaign.objects.all() if campaign.is_running()}

    assert {
        CouponKind.CASH_OFF,
        CouponKind.PERCENT_OFF,
        CouponKind.GIFT,
        CouponKind.MERCHANT_SERVICE,
        CouponKind.PAID_MULTIPLIER,
    } <= running
    assert Campaign.objects.filter(exclusive=True).count() == 1
    assert Campaign.objects.filter(stackable_with__isnull=False).distinct().count() == 2
    assert {"active", "redeemed", "expired", "pending_payment"} <= states, states
    assert Voucher.objects.filter(
        holder=consumer, kind=CouponKind.PAID_MULTIPLIER, paid_at__isnull=False
    ).exists()
    assert Voucher.objects.exclude(holder=consumer).count() >= 30
    assert Redemption.objects.filter(dealer__isnull=False).exists()
    assert Redemption.objects.filter(merchant__isnull=False).exists()
    assert PriceFloor.objects.exists()
    for username in ("demo-merchant", "demo-merchant-2"):
        merchant_login = User.objects.get(username=username)
        assert merchant_login.check_password("forecourt-demo") and merchant_login.merchant_staff.merchant
    # The used subsidy was applied to its applicant's car order and written off against it on delivery.
    [subsidy] = Redemption.objects.filter(voucher__kind=CouponKind.SUBSIDY)
    order = Order.objects.get(number=subsidy.order_reference)
    application = SubsidyApplication.objects.get(voucher=subsidy.voucher)
    assert (order.buyer_id, order.status, order.dealer_id, order.dealer.city.code) == (
        application.applicant_id,
        OrderStatus.DELIVERED,
        subsidy.dealer_id,
        "shanghai",
    )
    assert [line["code"] for line in order.applied_offers] == [subsidy.voucher.code]
    assert subsidy.value_fen == order.discount_fen == 10_000_00
    assert subsidy.voucher.status == VoucherStatus.REDEEMED
    # Budgets add up: every campaign's count is its standing vouchers.
    for campaign in Campaign.objects.all():
        standing = campaign.vouchers.exclude(status__in=["void", "refunded"]).count()
        assert campaign.claimed_count == standing, campaign.name
