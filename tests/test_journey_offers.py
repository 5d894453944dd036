"""The voucher journey of issue 5, clicked through in Chromium: a consumer on a phone claims a gift coupon
on its campaign page and opens its QR code; a sales advisor types the code on the write-off page, sees the
voucher and writes it off; the consumer's voucher page then shows it used. The page flags a forged QR
payload in the browser before the server is asked.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from forecourt.accounts.models import Role
from forecourt.dealers.models import Dealer
from forecourt.offers.models import CouponKind, Redemption, Voucher, VoucherStatus
from forecourt.offers.qr import qr_payload
from forecourt.offers.tests.factories import make_campaign

from .test_journeys import (  # noqa: F401 - demo_network is a fixture
    PHONE,
    PHONE_WIDTH,
    _code_from_outbox,
    _page_width,
    _sign_in_with_password,
    _staff,
    demo_network,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def _consumer_signs_in(page: Page, base: str, settings) -> None:
    settings.DEMO_MODE = True  # the SMS outbox is readable in demo mode
    page.goto(f"{base}/account/sign-in/")
    page.fill("#phone", PHONE)
    page.click("#send-code")
    expect(page.locator("#code-sent")).to_be_visible()
    page.fill("#code", _code_from_outbox(page, base))
    page.click("#sign-in")
    page.wait_for_url(f"{base}/")


@pytest.mark.usefixtures("demo_network")
def test_a_claimed_gift_coupon_is_typed_in_at_the_dealer_written_off_and_shown_used(
    live_server, phone_viewport_page, browser, settings
) -> None:
    page = phone_viewport_page
    base = live_server.url
    campaign = make_campaign(
        name="试驾礼",
        kind=CouponKind.GIFT,
        face_value_fen=300_00,
        gift_description="车载香氛一份",
        gift_description_en="A car fragrance",
    )
    dealer = Dealer.objects.filter(is_active=True).order_by("pk").first()
    advisor = _staff(dealer, Role.SALES_ADVISOR, "journey-writeoff", "李娜")

    _consumer_signs_in(page, base, settings)
    page.goto(f"{base}/offers/c/{campaign.public_id}/")
    page.click("#claim-button")
    page.click("#claimed-voucher")
    expect(page.locator("#voucher-qr")).to_be_visible()
    code = page.locator("#voucher-code").inner_text().replace("\n", "").replace(" ", "")
    voucher = Voucher.objects.get(campaign=campaign)
    assert code.replace("-", "") == voucher.code
    assert _page_width(page) <= PHONE_WIDTH

    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    staff = context.new_page()
    staff.set_default_timeout(15_000)
    try:
        _sign_in_with_password(staff, base, advisor.username)
        staff.goto(f"{base}/workspace/vouchers/")
        expect(staff.locator("#writeoff-place")).to_have_text(dealer.name)
        # A scanned payload whose code was altered is flagged in the browser, before the server is asked.
        genuine = qr_payload(
            code=voucher.code,
            holder_public_id=voucher.holder.public_id,
            valid_until_epoch=int(voucher.valid_until.timestamp()),
        )
        forged = genuine.replace(voucher.code, voucher.code[:-1] + ("0" if voucher.code[-1] != "0" else "1"))
        assert staff.evaluate("payload => window.forecourtScanner.accept(payload)", forged) == "forged"
        expect(staff.locator("#scanner-status")).to_have_attribute("data-verdict", "forged")
        assert not Redemption.objects.exists()

        staff.fill("#writeoff-code", code.lower())
        staff.click("#writeoff-lookup")
        expect(staff.locator("#writeoff-card")).to_be_visible()
        expect(staff.locator("#writeoff-card")).to_contain_text("车载香氛一份")
        expect(staff.locator("#writeoff-card")).to_have_attribute("data-status", "active")
        assert _page_width(staff) <= PHONE_WIDTH
        staff.click("#writeoff-redeem")
        expect(staff.locator("#writeoff-ok")).to_be_visible()
        expect(staff.locator("#writeoff-ok")).to_contain_text(dealer.name)

        # The same voucher scanned again: a genuine signature, then "already used" with the time and place.
        assert staff.evaluate("payload => window.forecourtScanner.accept(payload)", genuine) == "genuine"
        expect(staff.locator("#writeoff-card")).to_be_visible()
        expect(staff.locator("#writeoff-already")).to_contain_text(dealer.name)
    finally:
        context.close()

    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.REDEEMED
    assert Redemption.objects.filter(voucher=voucher).count() == 1
    page.goto(f"{base}/offers/mine/{voucher.code}/")
    expect(page.locator("#voucher-status")).to_have_attribute("data-status", "redeemed")
    expect(page.locator("#redeemed-where")).to_contain_text(dealer.name)
