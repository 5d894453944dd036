"""Coupons on orders: placement, the buyer adding and removing them before the lock, a configuration
change re-quoting them, cancellation releasing or voiding them, delivery writing them off."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client

from forecourt.catalog.services import configuration_save
from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.offers.models import OnCancel, Redemption, Voucher, VoucherStatus
from forecourt.offers.services import campaign_claim
from forecourt.offers.tests.factories import make_campaign
from forecourt.orders.models import Order
from forecourt.orders.services import (
    order_cancel,
    order_change_configuration,
    order_delivery_book,
    order_delivery_confirm,
    order_offers_apply,
)
from forecourt.payments.models import Refund

from .conftest import DEPOSIT, INTENTION, STD_TOTAL, committed, fresh, pay

pytestmark = pytest.mark.django_db

DEFAULT_FLOOR = STD_TOTAL * 85 // 100


def claim(holder, **fields):
    return campaign_claim(campaign=make_campaign(**fields), holder=holder)


def status_of(voucher) -> str:
    return Voucher.objects.get(pk=voucher.pk).status


def test_an_order_without_coupons_records_its_floor(order):
    assert (order.discount_fen, order.applied_offers, order.total_fen, order.floor_fen) == (
        0,
        [],
        STD_TOTAL,
        DEFAULT_FLOOR,
    )


def test_placing_with_a_coupon_discounts_the_total_and_keeps_the_deposit(place, buyer):
    voucher = claim(buyer, face_value_fen=5_000_00)
    order = place(voucher_codes=[voucher.code])
    assert (order.discount_fen, order.total_fen, order.deposit_fen, order.intention_fen) == (
        5_000_00,
        STD_TOTAL - 5_000_00,
        DEPOSIT,
        INTENTION,
    )
    created = Event.objects.get(name="order.created")
    assert (created.payload["discount_fen"], created.payload["vouchers"]) == (5_000_00, [voucher.code])


def test_the_buyer_adds_and_removes_coupons_before_the_lock(order, buyer):
    first = claim(buyer, name="A", face_value_fen=1_000_00)
    order = order_offers_apply(order=order, codes=[first.code], actor=buyer)
    assert (order.discount_fen, fresh(order).total_fen) == (1_000_00, STD_TOTAL - 1_000_00)
    assert status_of(first) == VoucherStatus.APPLIED
    order = order_offers_apply(order=order, codes=[], actor=buyer)
    assert (fresh(order).discount_fen, fresh(order).applied_offers, fresh(order).total_fen) == (
        0,
        [],
        STD_TOTAL,
    )
    assert status_of(first) == VoucherStatus.ACTIVE
    assert sorted(
        Event.objects.filter(subject_type="voucher", subject_id=first.code).values_list("name", flat=True)
    ) == [
        "voucher.applied",
        "voucher.claimed",
        "voucher.released",
    ]
    assert Event.objects.filter(name="order.offers_changed").count() == 2


def test_only_the_buyer_may_set_the_coupons(order, buyer, other_buyer):
    voucher = claim(buyer)
    with pytest.raises(DomainError):
        order_offers_apply(order=order, codes=[voucher.code], actor=other_buyer)
    assert status_of(voucher) == VoucherStatus.ACTIVE


def test_coupons_cannot_change_after_the_lock(deposit_paid, buyer):
    from forecourt.orders.services import order_lock

    locked = order_lock(order=deposit_paid, actor=buyer)
    voucher = claim(buyer)
    with pytest.raises(DomainError) as caught:
        order_offers_apply(order=locked, codes=[voucher.code], actor=buyer)
    assert (caught.value.code, caught.value.status) == ("change_window_closed", 409)
    assert (status_of(voucher), fresh(locked).discount_fen) == (VoucherStatus.ACTIVE, 0)


def test_a_configuration_change_releases_a_coupon_no_longer_eligible(order, buyer):
    std_only = claim(buyer, name="std", face_value_fen=1_000_00, eligible_trims=["aurora-std"])
    order = order_offers_apply(order=order, codes=[std_only.code], actor=buyer)
    pro = configuration_save(
        trim_code="aurora-pro", option_codes=["white", "black-int", "wheels-18"], owner=buyer
    )
    changed = order_change_configuration(order=order, configuration=pro, actor=buyer)
    stored = fresh(changed)
    assert (stored.discount_fen, stored.applied_offers, stored.total_fen) == (0, [], stored.vehicle_price_fen)
    assert stored.floor_fen == -(-stored.vehicle_price_fen * 85 // 100)
    assert status_of(std_only) == VoucherStatus.ACTIVE
    event = Event.objects.get(name="order.configuration_changed")
    assert event.payload["vouchers_released"] == [std_only.code]


def test_a_configuration_change_keeps_an_eligible_coupon(order, buyer):
    voucher = claim(buyer, face_value_fen=1_000_00)
    order = order_offers_apply(order=order, codes=[voucher.code], actor=buyer)
    pro = configuration_save(
        trim_code="aurora-pro", option_codes=["white", "black-int", "wheels-18"], owner=buyer
    )
    stored = fresh(order_change_configuration(order=order, configuration=pro, actor=buyer))
    assert (stored.discount_fen, stored.total_fen) == (1_000_00, stored.vehicle_price_fen - 1_000_00)
    assert Voucher.objects.get(pk=voucher.pk).order_reference == order.number


def test_cancelling_releases_the_coupons_and_refunds_only_money_paid(place, buyer):
    release = claim(buyer, name="R", face_value_fen=1_000_00, on_cancel=OnCancel.RELEASE)
    void = claim(
        buyer, name="V", face_value_fen=1_000_00, on_cancel=OnCancel.VOID, stackable_with=[release.campaign]
    )
    order = place(voucher_codes=[release.code, void.code])
    pay(order, "intention")
    pay(order, "deposit")
    with committed():
        order_cancel(order=fresh(order), actor=buyer)
    assert (status_of(release), status_of(void)) == (VoucherStatus.ACTIVE, VoucherStatus.VOID)
    assert sum(Refund.objects.values_list("amount_fen", flat=True)) == DEPOSIT
    assert fresh(order).refunded_fen == DEPOSIT


def test_delivery_writes_off_the_orders_coupons_at_its_dealer(final_paid_order, advisor, buyer):
    voucher = claim(buyer, face_value_fen=1_000_00)
    # Applied directly (the fixture's order is already past the lock): as if placed with the coupon.
    Voucher.objects.filter(pk=voucher.pk).update(
        status=VoucherStatus.APPLIED,
        order_reference=final_paid_order.number,
        order_dealer=final_paid_order.dealer,
        applied_value_fen=1_000_00,
        applied_at=clock.now(),
    )
    order = order_delivery_book(
        order=final_paid_order, delivery_at=clock.now() + timedelta(days=2), actor=advisor
    )
    with committed():
        order_delivery_confirm(order=order, actor=advisor)
    redemption = Redemption.objects.get(voucher=voucher)
    assert (redemption.dealer_id, redemption.order_reference, redemption.value_fen) == (
        order.dealer_id,
        order.number,
        1_000_00,
    )
    assert status_of(voucher) == VoucherStatus.REDEEMED


# ---- The API --------------------------------------------------------------------------------------------


def _post(client: Client, path: str, body):
    return client.post(path, data=json.dumps(body), content_type="application/json")


def test_api_sets_the_coupons_and_answers_the_order(order, buyer):
    voucher = claim(buyer)
    client = Client()
    client.force_login(buyer)
    response = _post(client, f"/api/v1/orders/{order.number}/offers", {"codes": [voucher.display_code]})
    assert response.status_code == 200
    data = response.json()
    assert data["number"] == order.number
    assert data["discount"] == {"amount": 2_000_00, "currency": "CNY"}
    assert data["floor"] == {"amount": DEFAULT_FLOOR, "currency": "CNY"}
    assert data["total"]["amount"] == STD_TOTAL - 2_000_00
    assert [offer["code"] for offer in data["applied_offers"]] == [voucher.code]


def test_api_refuses_another_persons_coupon_as_not_found(order, buyer, other_buyer):
    theirs = claim(other_buyer)
    client = Client()
    client.force_login(buyer)
    response = _post(client, f"/api/v1/orders/{order.number}/offers", {"codes": [theirs.code]})
    assert response.status_code == 409
    assert response.json()["code"] == "not_found"
    assert status_of(theirs) == VoucherStatus.ACTIVE
    assert fresh(order).discount_fen == 0


def test_api_rejects_malformed_codes_and_other_peoples_orders(order, buyer, other_buyer):
    client = Client()
    client.force_login(buyer)
    assert _post(client, f"/api/v1/orders/{order.number}/offers", {"codes": ["\x00"]}).status_code == 422
    assert _post(client, f"/api/v1/orders/{order.number}/offers", {}).status_code == 422
    stranger = Client()
    stranger.force_login(other_buyer)
    assert _post(stranger, f"/api/v1/orders/{order.number}/offers", {"codes": []}).status_code == 404
    assert Order.objects.get(pk=order.pk).discount_fen == 0
