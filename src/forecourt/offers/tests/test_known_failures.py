"""One regression test per known failure of open-source shops named in issue 5: usage limits bypassed by
concurrent checkouts, stacked discounts producing free orders, coupons reused by cancelling and
reconfirming, a coupon meant for one person used by another, refunds that leave the coupon usable."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connections
from django.utils.translation import gettext as _

from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.offers.models import OnCancel, Voucher, VoucherStatus
from forecourt.offers.services import vouchers_redeem_for_order
from forecourt.offers.tests.factories import make_campaign
from forecourt.offers.tests.ordering_cast import *  # noqa: F403
from forecourt.offers.tests.ordering_cast import (
    DEFAULT_FLOOR,
    DEPOSIT,
    STD_TOTAL,
    committed,
    coupon,
    fresh,
    pay,
)
from forecourt.orders.models import Order, OrderStatus
from forecourt.orders.services import order_cancel, order_offers_apply, order_place
from forecourt.payments.models import Refund

POSTGRES = settings.DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")


@pytest.mark.postgres_only
@pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
@pytest.mark.django_db(transaction=True)
def test_one_voucher_checked_out_by_concurrent_orders_is_applied_to_exactly_one(configuration, buyer, dealer):
    voucher = coupon(buyer)
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    outcomes: list[str] = []

    def checkout() -> None:
        try:
            barrier.wait()
            order_place(buyer=buyer, configuration=configuration, dealer=dealer, voucher_codes=[voucher.code])
            outcomes.append("placed")
        except DomainError as error:
            outcomes.append(error.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=checkout) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already_applied"] * (threads_count - 1) + ["placed"]
    winner = Order.objects.get()
    assert (winner.discount_fen, Voucher.objects.get(pk=voucher.pk).order_reference) == (
        2_000_00,
        winner.number,
    )


@pytest.mark.django_db
def test_stacked_discounts_never_make_a_free_order(place, buyer):
    campaigns = [
        make_campaign(name=f"C{index}", face_value_fen=value)
        for index, value in enumerate([20_000_00, 100_000_00])
    ]
    for campaign in campaigns:
        campaign.stackable_with.set([other for other in campaigns if other != campaign])
    vouchers = [coupon(buyer, campaign) for campaign in campaigns]
    order = place(voucher_codes=[voucher.code for voucher in vouchers])
    assert (order.total_fen, order.floor_fen) == (DEFAULT_FLOOR, DEFAULT_FLOOR)
    assert (
        order.discount_fen == STD_TOTAL - DEFAULT_FLOOR == sum(o["value_fen"] for o in order.applied_offers)
    )
    assert [o["value_fen"] for o in order.applied_offers] == [
        20_000_00,
        STD_TOTAL - DEFAULT_FLOOR - 20_000_00,
    ]
    assert order.deposit_fen == DEPOSIT


@pytest.mark.django_db
def test_a_coupon_is_not_reused_by_cancelling_and_ordering_again(place, buyer):
    voucher = coupon(buyer, on_cancel=OnCancel.VOID)
    first = place(voucher_codes=[voucher.code])
    with committed():
        order_cancel(order=first, actor=buyer)
    with pytest.raises(DomainError) as caught:
        place(voucher_codes=[voucher.code])
    assert caught.value.code == "voucher_void"
    assert Order.objects.filter(status=OrderStatus.CREATED).count() == 0


@pytest.mark.django_db
def test_a_released_coupon_stands_on_one_live_order_only(place, buyer):
    voucher = coupon(buyer, on_cancel=OnCancel.RELEASE)
    first = place(voucher_codes=[voucher.code])
    with committed():
        order_cancel(order=first, actor=buyer)
    second = place(voucher_codes=[voucher.code])
    stored = Voucher.objects.get(pk=voucher.pk)
    assert (stored.status, stored.order_reference) == (VoucherStatus.APPLIED, second.number)
    # The cancelled order cannot be confirmed again: it stays cancelled and its coupon is gone from it.
    with pytest.raises(DomainError):
        order_offers_apply(order=fresh(first), codes=[voucher.code], actor=buyer)


@pytest.mark.django_db
def test_a_coupon_meant_for_one_person_is_refused_to_another(place, buyer, other_buyer):
    theirs = coupon(other_buyer)
    with pytest.raises(DomainError) as caught:
        place(voucher_codes=[theirs.code])
    assert (caught.value.code, caught.value.message) == ("not_found", str(_("No such coupon.")))
    assert Order.objects.count() == 0
    assert Voucher.objects.get(pk=theirs.pk).status == VoucherStatus.ACTIVE
    assert not Event.objects.filter(name="voucher.applied").exists()


@pytest.mark.django_db
def test_a_refunded_order_leaves_no_usable_coupon_that_was_written_off(place, buyer, dealer):
    voucher = coupon(buyer, on_cancel=OnCancel.RELEASE)
    order = place(voucher_codes=[voucher.code])
    pay(order, "intention")
    pay(order, "deposit")
    vouchers_redeem_for_order(order_reference=order.number, dealer=dealer)
    with committed():
        order_cancel(order=fresh(order), actor=buyer)
    assert Voucher.objects.get(pk=voucher.pk).status == VoucherStatus.VOID
    # The refund is the money paid, never the coupon's value as cash.
    assert sum(Refund.objects.values_list("amount_fen", flat=True)) == DEPOSIT == fresh(order).refunded_fen
