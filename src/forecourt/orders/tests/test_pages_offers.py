"""Coupons on the order pages: choosing them when placing an order (with the htmx preview), adding and
removing them on the buyer's order before the lock, the change page saying which would be released,
and the dealer's "offers to honour". Chinese by default, English on the switch; a refusal is explained;
another dealer's staff still get a 404."""

from __future__ import annotations

import re

import pytest
from django.conf import settings as django_settings
from django.test import Client

from forecourt.catalog.services import configuration_save
from forecourt.core.models import Event
from forecourt.offers.models import Voucher, VoucherStatus
from forecourt.offers.services import campaign_claim
from forecourt.offers.tests.factories import make_campaign
from forecourt.orders.models import Order
from forecourt.orders.services import order_lock, order_offers_apply

from .conftest import STD_TOTAL, fresh

pytestmark = pytest.mark.django_db

KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
# aurora-std with the heat pump, ¥232,900: its default floor (85 %) is ¥197,965.
FLOOR_TEXT = "¥197,965"


def _signed_in(user, *, english: bool = False) -> Client:
    client = Client()
    client.force_login(user)
    if english:
        client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _coupon(holder, **fields) -> Voucher:
    return campaign_claim(campaign=make_campaign(**fields), holder=holder)


def _grouped(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _flashes(response) -> str:
    html = response.content.decode()
    start = html.find('<ul class="flashes"')
    return html[start : html.find("</ul>", start)] if start >= 0 else ""


def _status(voucher: Voucher) -> str:
    return Voucher.objects.get(pk=voucher.pk).status


# --- placing an order ---------------------------------------------------------------------------------


def test_the_order_form_lists_the_buyers_car_coupons_in_chinese(buyer, configuration, dealer) -> None:
    voucher = _coupon(buyer, name="双11购车立减", face_value_fen=2_000_00)
    _coupon(buyer, name="洗车券", kind="merchant_service")

    html = _signed_in(buyer).get(f"/orders/new/{configuration.share_code}/?city=shanghai").content.decode()

    assert 'id="order-offers"' in html and "优惠券" in html
    assert f'name="voucher_codes" value="{voucher.code}"' in html and _grouped(voucher.code) in html
    assert "双11购车立减" in html and "¥2,000" in html
    assert "洗车券" not in html
    assert f'hx-post="/orders/new/{configuration.share_code}/offers/"' in html


def test_the_order_form_coupons_in_english(buyer, configuration, dealer) -> None:
    voucher = _coupon(buyer, name_en="Double 11 car discount")

    html = (
        _signed_in(buyer, english=True)
        .get(f"/orders/new/{configuration.share_code}/?city=shanghai")
        .content.decode()
    )

    assert "Coupons" in html and "Double 11 car discount" in html and voucher.code in html
    assert "优惠券" not in html


def test_without_coupons_the_order_form_links_to_the_offers(buyer, configuration, dealer) -> None:
    html = _signed_in(buyer).get(f"/orders/new/{configuration.share_code}/?city=shanghai").content.decode()

    assert 'id="no-coupons"' in html and 'href="/offers/"' in html
    assert 'name="voucher_codes"' not in html


def test_the_preview_shows_each_coupons_value_and_the_total(buyer, configuration, dealer) -> None:
    voucher = _coupon(buyer, name="双11购车立减", face_value_fen=2_000_00)

    response = _signed_in(buyer).post(
        f"/orders/new/{configuration.share_code}/offers/",
        {"city": "shanghai", "dealer": dealer.public_id, "voucher_codes": [voucher.code]},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()

    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="offer-preview"')
    assert "¥232,900" in html and "−¥2,000" in html
    assert '<dd class="price amounts__strong" id="offer-total">¥230,900</dd>' in html
    assert 'id="offer-floor"' not in html and 'id="offer-refused"' not in html
    assert _status(voucher) == VoucherStatus.ACTIVE


def test_the_preview_shows_the_floor_and_the_refused_coupons(buyer, configuration, dealer) -> None:
    big = _coupon(buyer, name="大额券", face_value_fen=50_000_00)
    elsewhere = _coupon(buyer, name="杭州专享", eligible_cities=["hangzhou"])

    html = (
        _signed_in(buyer, english=True)
        .post(
            f"/orders/new/{configuration.share_code}/offers/",
            {"city": "shanghai", "dealer": dealer.public_id, "voucher_codes": [big.code, elsewhere.code]},
        )
        .content.decode()
    )

    assert '<dd class="price amounts__strong" id="offer-total">¥197,965</dd>' in html
    assert f"Lowest price for this car: {FLOOR_TEXT}" in html
    assert 'data-reason="not_eligible"' in html and _grouped(elsewhere.code) in html
    assert "This coupon is not valid in this city." in html


def test_the_preview_of_the_floor_in_chinese(buyer, configuration, dealer) -> None:
    big = _coupon(buyer, face_value_fen=50_000_00)

    html = (
        _signed_in(buyer)
        .post(
            f"/orders/new/{configuration.share_code}/offers/",
            {"city": "shanghai", "dealer": dealer.public_id, "voucher_codes": [big.code]},
        )
        .content.decode()
    )

    assert f"最低成交价 {FLOOR_TEXT}" in html


def test_the_preview_is_for_the_signed_in_only(client, configuration) -> None:
    response = client.post(f"/orders/new/{configuration.share_code}/offers/", {"voucher_codes": ["X"]})

    assert response.status_code == 302


def test_placing_with_chosen_coupons_discounts_the_order(buyer, configuration, dealer) -> None:
    voucher = _coupon(buyer, face_value_fen=3_000_00)
    client = _signed_in(buyer)
    page = client.get(f"/orders/new/{configuration.share_code}/?city=shanghai").content.decode()
    found = KEY.search(page)
    assert found is not None

    response = client.post(
        f"/orders/new/{configuration.share_code}/",
        {
            "idempotency_key": found.group(1),
            "city": "shanghai",
            "dealer": dealer.public_id,
            "lock_deadline": "2026-11-30",
            "voucher_codes": [voucher.code],
        },
    )

    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.number}/"
    assert (order.discount_fen, order.total_fen) == (3_000_00, STD_TOTAL - 3_000_00)
    assert _status(voucher) == VoucherStatus.APPLIED


def test_placing_with_a_refused_coupon_explains_it_and_places_nothing(
    buyer, other_buyer, configuration, dealer
) -> None:
    theirs = _coupon(other_buyer)
    client = _signed_in(buyer, english=True)
    page = client.get(f"/orders/new/{configuration.share_code}/?city=shanghai").content.decode()
    found = KEY.search(page)
    assert found is not None

    response = client.post(
        f"/orders/new/{configuration.share_code}/",
        {
            "idempotency_key": found.group(1),
            "city": "shanghai",
            "lock_deadline": "2026-11-30",
            "voucher_codes": [theirs.code],
        },
    )
    html = response.content.decode()

    assert response.status_code == 409, re.findall(r'id="order-error"[^>]*>([^<]*)', html)
    assert f"{_grouped(theirs.code)}: No such coupon." in html
    assert (Order.objects.count(), _status(theirs)) == (0, VoucherStatus.ACTIVE)


# --- the buyer's order --------------------------------------------------------------------------------


def test_the_order_page_shows_the_applied_coupons_in_chinese(buyer, place) -> None:
    voucher = _coupon(buyer, name="双11购车立减", face_value_fen=2_000_00)
    order = place(voucher_codes=[voucher.code])

    html = _signed_in(buyer).get(f"/orders/{order.number}/").content.decode()

    assert 'id="order-offers"' in html and "优惠券" in html
    assert f'data-code="{voucher.code}" data-status="applied"' in html
    assert _grouped(voucher.code) in html and "双11购车立减" in html and "−¥2,000" in html
    assert '<dd class="price price--negative" id="amount-discount">−¥2,000</dd>' in html
    assert '<dd class="price amounts__strong" id="amount-total">¥230,900</dd>' in html
    assert 'id="offers-form"' in html and f'value="{voucher.code}" id="coupon-{voucher.code}" checked' in html


def test_the_order_page_coupons_in_english(buyer, place) -> None:
    voucher = _coupon(buyer, name_en="Double 11 car discount", face_value_fen=2_000_00)
    order = place(voucher_codes=[voucher.code])

    html = _signed_in(buyer, english=True).get(f"/orders/{order.number}/").content.decode()

    assert "Coupons" in html and "Double 11 car discount" in html
    assert "¥2,000 off in all; the total is ¥230,900." in html
    assert "优惠券" not in html


def test_the_buyer_adds_and_removes_coupons_on_the_order_page(buyer, order) -> None:
    voucher = _coupon(buyer, face_value_fen=1_000_00)
    client = _signed_in(buyer, english=True)

    added = client.post(f"/orders/{order.number}/offers/", {"voucher_codes": [voucher.code]}, follow=True)

    assert "Your coupons are applied: ¥1,000 off, the total is now ¥231,900." in _flashes(added)
    assert (fresh(order).discount_fen, _status(voucher)) == (1_000_00, VoucherStatus.APPLIED)

    removed = client.post(f"/orders/{order.number}/offers/", {}, follow=True)

    assert "No coupons on this order now." in _flashes(removed)
    assert (fresh(order).discount_fen, fresh(order).total_fen) == (0, STD_TOTAL)
    assert _status(voucher) == VoucherStatus.ACTIVE
    assert Event.objects.filter(name="order.offers_changed").count() == 2


def test_a_refused_coupon_is_explained_and_nothing_changes(buyer, other_buyer, order) -> None:
    theirs = _coupon(other_buyer)
    before = Event.objects.count()

    response = _signed_in(buyer, english=True).post(
        f"/orders/{order.number}/offers/", {"voucher_codes": [theirs.code]}, follow=True
    )

    assert f"{_grouped(theirs.code)}: No such coupon." in _flashes(response)
    assert (fresh(order).discount_fen, _status(theirs), Event.objects.count()) == (
        0,
        VoucherStatus.ACTIVE,
        before,
    )


def test_after_the_lock_the_coupons_are_read_only(buyer, deposit_paid) -> None:
    voucher = _coupon(buyer, face_value_fen=1_000_00)
    order_offers_apply(order=deposit_paid, codes=[voucher.code], actor=buyer)
    locked = order_lock(order=fresh(deposit_paid), actor=buyer)
    client = _signed_in(buyer, english=True)

    html = client.get(f"/orders/{locked.number}/").content.decode()

    assert 'id="offers-form"' not in html and 'id="offers-fixed"' in html
    assert _grouped(voucher.code) in html
    response = client.post(f"/orders/{locked.number}/offers/", {}, follow=True)
    assert "The order is locked: its coupons can no longer change." in _flashes(response)
    assert (fresh(locked).discount_fen, _status(voucher)) == (1_000_00, VoucherStatus.APPLIED)


def test_another_buyer_cannot_set_the_coupons_of_an_order(buyer, other_buyer, order) -> None:
    theirs = _coupon(other_buyer)

    response = _signed_in(other_buyer).post(
        f"/orders/{order.number}/offers/", {"voucher_codes": [theirs.code]}
    )

    assert response.status_code == 404
    assert (fresh(order).discount_fen, _status(theirs)) == (0, VoucherStatus.ACTIVE)


# --- changing the configuration -----------------------------------------------------------------------


def test_the_change_page_says_which_coupons_would_be_released(buyer, order) -> None:
    std_only = _coupon(buyer, face_value_fen=1_000_00, eligible_trims=["aurora-std"])
    order_offers_apply(order=order, codes=[std_only.code], actor=buyer)
    pro = configuration_save(
        trim_code="aurora-pro", option_codes=["white", "black-int", "wheels-18"], owner=buyer
    )

    html = (
        _signed_in(buyer, english=True)
        .get(f"/orders/{order.number}/change/?configuration={pro.share_code}")
        .content.decode()
    )

    assert 'id="preview-released"' in html and _grouped(std_only.code) in html
    assert "This coupon is not valid for this version of the car." in html
    assert '<dd class="price price--negative" id="preview-discount">−¥0</dd>' in html
    assert _status(std_only) == VoucherStatus.APPLIED


def test_the_change_page_keeps_a_coupon_still_eligible(buyer, order) -> None:
    anywhere = _coupon(buyer, face_value_fen=1_000_00)
    order_offers_apply(order=order, codes=[anywhere.code], actor=buyer)
    other = configuration_save(
        trim_code="aurora-std", option_codes=["white", "black-int", "wheels-18"], owner=buyer
    )

    html = (
        _signed_in(buyer)
        .get(f"/orders/{order.number}/change/?configuration={other.share_code}")
        .content.decode()
    )

    assert 'id="preview-released"' not in html
    assert '<dd class="price price--negative" id="preview-discount">−¥1,000</dd>' in html
    assert '<dd class="price amounts__strong" id="preview-total">¥228,900</dd>' in html


# --- the dealer ---------------------------------------------------------------------------------------


def test_the_dealer_sees_the_offers_to_honour_in_chinese(advisor, buyer, place) -> None:
    voucher = _coupon(buyer, name="双11购车立减", face_value_fen=2_000_00)
    order = place(voucher_codes=[voucher.code])

    html = _signed_in(advisor).get(f"/workspace/orders/{order.number}/").content.decode()

    assert 'id="offers-to-honour"' in html and "优惠（请按此兑现）" in html
    assert f'data-code="{voucher.code}" data-status="applied"' in html
    assert _grouped(voucher.code) in html and "双11购车立减" in html and "−¥2,000" in html
    assert '<dd class="price" id="honour-floor">¥197,965</dd>' in html
    assert '<dd class="price" id="honour-discount">−¥2,000</dd>' in html


def test_the_dealer_sees_the_offers_to_honour_in_english(advisor, buyer, place) -> None:
    voucher = _coupon(buyer, name_en="Double 11 car discount", face_value_fen=2_000_00)
    order = place(voucher_codes=[voucher.code])

    html = _signed_in(advisor, english=True).get(f"/workspace/orders/{order.number}/").content.decode()

    assert "Offers to honour" in html and "Double 11 car discount" in html and "Applied" in html
    assert "Cash off a car order" in html


def test_another_dealers_staff_still_get_a_404(other_advisor, buyer, place) -> None:
    voucher = _coupon(buyer)
    order = place(voucher_codes=[voucher.code])

    response = _signed_in(other_advisor).get(f"/workspace/orders/{order.number}/")

    assert response.status_code == 404
