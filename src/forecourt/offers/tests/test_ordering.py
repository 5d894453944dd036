"""Coupons on car orders: the quote's rules (eligibility, stacking, caps, the floor) and apply / release /
void / redeem against orders placed through the real `order_place`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.translation import gettext as _

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.offers.models import CouponKind, OnCancel, PriceFloor, Redemption, Voucher, VoucherStatus
from forecourt.offers.services import (
    offers_quote,
    price_floor_for,
    redemption_record,
    vouchers_redeem_for_order,
    vouchers_release_for_order,
)
from forecourt.offers.tests.factories import make_campaign
from forecourt.offers.tests.ordering_cast import *  # noqa: F403
from forecourt.offers.tests.ordering_cast import DEFAULT_FLOOR, STD_TOTAL, coupon, status_of
from forecourt.orders.models import Order

pytestmark = pytest.mark.django_db


def quote(holder, codes, **overrides):
    arguments = {
        "holder": holder,
        "codes": codes,
        "trim_code": "aurora-std",
        "model_code": "aurora",
        "city_code": "shanghai",
        "dealer_public_id": "dlr_x",
        "vehicle_price_fen": STD_TOTAL,
    }
    arguments.update(overrides)
    return offers_quote(**arguments)


def reasons(result):
    return [(refusal.code, refusal.reason) for refusal in result.refused]


# ---- The floor ----------------------------------------------------------------------------------------


def test_floor_is_the_default_share_of_the_price_without_a_price_floor(catalogue):
    assert (
        price_floor_for(trim_code="aurora-std", model_code="aurora", vehicle_price_fen=STD_TOTAL)
        == DEFAULT_FLOOR
    )


def test_floor_of_the_trim_wins_over_the_model(catalogue):
    PriceFloor.objects.create(model=catalogue.model, floor_fen=150_000_00)
    assert price_floor_for(trim_code="aurora-pro", model_code="aurora", vehicle_price_fen=1) == 150_000_00
    PriceFloor.objects.create(trim=catalogue.pro, floor_fen=250_000_00)
    assert price_floor_for(trim_code="aurora-pro", model_code="aurora", vehicle_price_fen=1) == 250_000_00
    assert price_floor_for(trim_code="aurora-std", model_code="aurora", vehicle_price_fen=1) == 150_000_00


# ---- The quote ----------------------------------------------------------------------------------------


def test_cash_off_takes_its_face_value(catalogue, buyer):
    voucher = coupon(buyer)
    result = quote(buyer, [voucher.display_code])
    assert [(line.code, line.kind, line.value_fen) for line in result.lines] == [
        (voucher.code, CouponKind.CASH_OFF, 2_000_00)
    ]
    assert (result.discount_fen, result.total_fen, result.floor_fen) == (
        2_000_00,
        STD_TOTAL - 2_000_00,
        DEFAULT_FLOOR,
    )
    assert result.refused == ()


def test_percent_off_applies_to_the_price_and_is_capped(catalogue, buyer, other_buyer):
    capped = coupon(buyer, kind=CouponKind.PERCENT_OFF, percent_off_bp=1000, percent_cap_fen=5_000_00)
    assert quote(buyer, [capped.code]).discount_fen == 5_000_00
    uncapped = coupon(other_buyer, kind=CouponKind.PERCENT_OFF, percent_off_bp=500, percent_cap_fen=20_000_00)
    assert quote(other_buyer, [uncapped.code]).discount_fen == STD_TOTAL * 5 // 100


def test_the_floor_holds_however_large_the_coupon(catalogue, buyer):
    voucher = coupon(buyer, face_value_fen=100_000_00)
    result = quote(buyer, [voucher.code])
    assert result.total_fen == DEFAULT_FLOOR
    assert result.lines[0].value_fen == STD_TOTAL - DEFAULT_FLOOR


def test_the_smallest_order_cap_limits_stacked_coupons_in_the_order_given(catalogue, buyer):
    first = make_campaign(name="A", face_value_fen=3_000_00, max_order_discount_fen=4_000_00)
    second = make_campaign(
        name="B", face_value_fen=3_000_00, max_order_discount_fen=9_000_00, stackable_with=[first]
    )
    a, b = coupon(buyer, first), coupon(buyer, second)
    result = quote(buyer, [b.code, a.code])
    assert [(line.code, line.value_fen) for line in result.lines] == [(b.code, 3_000_00), (a.code, 1_000_00)]
    assert result.discount_fen == 4_000_00


def test_a_coupon_left_nothing_by_the_floor_is_refused(catalogue, buyer):
    first = make_campaign(name="A", face_value_fen=40_000_00)
    second = make_campaign(name="B", face_value_fen=1_000_00, stackable_with=[first])
    a, b = coupon(buyer, first), coupon(buyer, second)
    result = quote(buyer, [a.code, b.code])
    assert reasons(result) == [(b.code, "floor_reached")]
    assert result.total_fen == DEFAULT_FLOOR


def test_two_coupons_of_one_campaign_never_stack(catalogue, buyer):
    campaign = make_campaign(per_person_limit=2)
    a, b = coupon(buyer, campaign), coupon(buyer, campaign)
    result = quote(buyer, [a.code, b.code])
    assert reasons(result) == [(b.code, "not_stackable")]
    assert result.discount_fen == 2_000_00


def test_campaigns_stack_only_when_named_and_never_when_exclusive(catalogue, buyer):
    plain = make_campaign(name="plain")
    other = make_campaign(name="other")
    exclusive = make_campaign(name="exclusive", exclusive=True, stackable_with=[plain])
    a, b, c = coupon(buyer, plain), coupon(buyer, other), coupon(buyer, exclusive)
    assert reasons(quote(buyer, [a.code, b.code])) == [(b.code, "not_stackable")]
    assert reasons(quote(buyer, [c.code, a.code])) == [(a.code, "not_stackable")]
    other.stackable_with.add(plain)
    assert quote(buyer, [a.code, b.code]).discount_fen == 4_000_00


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("eligible_models", ["nebula"]),
        ("eligible_trims", ["aurora-pro"]),
        ("eligible_cities", ["hangzhou"]),
        ("eligible_dealers", ["dlr_other"]),
    ],
)
def test_campaign_eligibility_lists_are_checked(catalogue, buyer, field, value):
    voucher = coupon(buyer, **{field: value})
    result = quote(buyer, [voucher.code])
    assert reasons(result) == [(voucher.code, "not_eligible")]
    assert (result.lines, result.discount_fen, result.total_fen) == ((), 0, STD_TOTAL)


def test_eligibility_lists_naming_the_car_accept_it(catalogue, buyer):
    voucher = coupon(
        buyer,
        eligible_models=["aurora"],
        eligible_trims=["aurora-std"],
        eligible_cities=["shanghai"],
        eligible_dealers=["dlr_x"],
    )
    assert quote(buyer, [voucher.code]).discount_fen == 2_000_00


def test_another_persons_code_is_refused_like_an_unknown_one(catalogue, buyer, other_buyer):
    theirs = coupon(other_buyer)
    result = quote(buyer, [theirs.code, "ZZZZZZZZZZZZZZZZ"])
    unknown = result.refused[1]
    assert (unknown.reason, unknown.message) == ("not_found", str(_("No such coupon.")))
    assert [(r.reason, r.message) for r in result.refused] == [
        (unknown.reason, unknown.message),
        (unknown.reason, unknown.message),
    ]
    assert result.discount_fen == 0


def test_unusable_vouchers_are_refused_with_their_reason(catalogue, buyer, frozen):
    expired = coupon(buyer, name="short", valid_days=1)
    gift = coupon(buyer, kind=CouponKind.GIFT, gift_description="脚垫")
    paid = coupon(buyer, kind=CouponKind.PAID_MULTIPLIER, price_fen=99_00)
    assert paid.status == VoucherStatus.PENDING_PAYMENT
    with clock.frozen_at(frozen + timedelta(days=2)):
        result = quote(buyer, [expired.code, gift.code, paid.code])
    assert reasons(result) == [
        (expired.code, "voucher_expired"),
        (gift.code, "not_eligible"),
        (paid.code, "payment_required"),
    ]


def test_a_paid_multiplier_once_paid_gives_its_face_value(catalogue, buyer):
    paid = coupon(buyer, kind=CouponKind.PAID_MULTIPLIER, price_fen=99_00, face_value_fen=2_000_00)
    Voucher.objects.filter(pk=paid.pk).update(status=VoucherStatus.ACTIVE, paid_at=clock.now())
    assert quote(buyer, [paid.code]).discount_fen == 2_000_00


# ---- Applying to orders -------------------------------------------------------------------------------


def test_placing_with_coupons_records_exactly_what_each_gave(place, buyer):
    voucher = coupon(buyer)
    order = place(voucher_codes=[voucher.display_code])
    assert (order.discount_fen, order.total_fen, order.floor_fen) == (
        2_000_00,
        STD_TOTAL - 2_000_00,
        DEFAULT_FLOOR,
    )
    campaign = voucher.campaign
    assert order.applied_offers == [
        {
            "code": voucher.code,
            "campaign": campaign.public_id,
            "name": campaign.name,
            "kind": "cash_off",
            "value_fen": 2_000_00,
        }
    ]
    stored = Voucher.objects.get(pk=voucher.pk)
    assert (stored.status, stored.order_reference, stored.order_dealer_id, stored.applied_value_fen) == (
        VoucherStatus.APPLIED,
        order.number,
        order.dealer_id,
        2_000_00,
    )
    assert list(Event.objects.filter(name="voucher.applied").values_list("subject_id", flat=True)) == [
        voucher.code
    ]


def test_a_refused_coupon_places_no_order_and_applies_nothing(place, buyer):
    good = coupon(buyer, name="good")
    exclusive = coupon(buyer, name="exclusive", exclusive=True)
    with pytest.raises(DomainError) as caught:
        place(voucher_codes=[good.code, exclusive.code])
    assert (caught.value.code, caught.value.status) == ("not_stackable", 409)
    assert Order.objects.count() == 0
    assert status_of(good) == status_of(exclusive) == VoucherStatus.ACTIVE
    assert not Event.objects.filter(name__in=["voucher.applied", "order.created"]).exists()


def test_a_coupon_applied_to_one_order_is_refused_for_another(place, buyer):
    voucher = coupon(buyer)
    first = place(voucher_codes=[voucher.code])
    with pytest.raises(DomainError) as caught:
        place(voucher_codes=[voucher.code])
    assert caught.value.code == "already_applied"
    assert Order.objects.count() == 1
    assert Voucher.objects.get(pk=voucher.pk).order_reference == first.number


def test_cancelling_releases_a_release_rule_coupon_to_its_holder(place, buyer):
    voucher = coupon(buyer, on_cancel=OnCancel.RELEASE)
    order = place(voucher_codes=[voucher.code])
    assert vouchers_release_for_order(order_reference=order.number, reason="buyer") == 1
    stored = Voucher.objects.get(pk=voucher.pk)
    assert (stored.status, stored.order_reference, stored.applied_value_fen) == (VoucherStatus.ACTIVE, "", 0)
    assert vouchers_release_for_order(order_reference=order.number, reason="buyer") == 0
    assert Event.objects.filter(name="voucher.released", subject_id=voucher.code).count() == 1


def test_cancelling_voids_a_void_rule_coupon(place, buyer):
    voucher = coupon(buyer, on_cancel=OnCancel.VOID)
    order = place(voucher_codes=[voucher.code])
    vouchers_release_for_order(order_reference=order.number, reason="buyer")
    stored = Voucher.objects.get(pk=voucher.pk)
    assert (stored.status, stored.order_reference) == (VoucherStatus.VOID, order.number)
    assert stored.voided_at == clock.now()


def test_a_released_coupon_past_its_validity_expires(place, buyer, frozen):
    voucher = coupon(buyer, valid_days=1)
    order = place(voucher_codes=[voucher.code])
    with clock.frozen_at(frozen + timedelta(days=3)):
        vouchers_release_for_order(order_reference=order.number, reason="buyer")
    assert status_of(voucher) == VoucherStatus.EXPIRED


def test_a_coupon_written_off_against_the_order_is_voided_on_cancellation(place, buyer, dealer):
    voucher = coupon(buyer, on_cancel=OnCancel.RELEASE)
    order = place(voucher_codes=[voucher.code])
    assert vouchers_redeem_for_order(order_reference=order.number, dealer=dealer) == 1
    redemption = Redemption.objects.get(voucher=voucher)
    assert (redemption.order_reference, redemption.value_fen, redemption.dealer_id) == (
        order.number,
        2_000_00,
        dealer.pk,
    )
    vouchers_release_for_order(order_reference=order.number, reason="buyer")
    assert status_of(voucher) == VoucherStatus.VOID


def test_redeeming_an_orders_coupons_twice_writes_off_once(place, buyer, dealer):
    voucher = coupon(buyer)
    order = place(voucher_codes=[voucher.code])
    vouchers_redeem_for_order(order_reference=order.number, dealer=dealer)
    assert vouchers_redeem_for_order(order_reference=order.number, dealer=dealer) == 0
    assert Redemption.objects.filter(voucher=voucher).count() == 1
    with pytest.raises(DomainError) as caught:
        redemption_record(voucher=voucher, staff=None, dealer=dealer, order_reference=order.number)
    assert caught.value.code == "already_redeemed"
