"""On a phone: a member sees their points, checks in for the day and shows the card; the dealer's page
decodes that very QR code with its scanner and shows the masked member, tier and benefits."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from forecourt.core import clock
from forecourt.core.tests.browser import page_signed_in, qr_read
from forecourt.loyalty.models import PointsEntry

from .members_cast import MONDAY_10, benefit, club_rules, give, make_member, make_staff, tier_rules

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _no_sideways_scrolling(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


@pytest.fixture
def frozen():
    with clock.frozen_at(MONDAY_10):
        yield


def test_a_member_checks_in_and_the_dealer_scans_the_card(live_server, phone_viewport_page, browser, frozen):
    club_rules()
    tier_rules()
    benefit("silver", "free-wash", "每年两次免费洗车")
    member = make_member("张三丰", phone="13800138000")
    give(member, 1_200, qualifying=True, reason="purchase", note="FC2611230001")
    give(member, 300, holding_days=7, reason="test_drive")

    page = phone_viewport_page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page_signed_in(page, live_server, member.user)
    page.goto(f"{live_server.url}/club/")
    expect(page.locator("#points-balance")).to_have_text("1500")
    expect(page.locator("#points-spendable")).to_have_text("1200")
    expect(page.locator("#points-pending-list")).to_contain_text("2026-11-30")
    expect(page.locator("#tier-benefits")).to_contain_text("每年两次免费洗车")
    _no_sideways_scrolling(page)
    page.click("#check-in-button")
    expect(page.locator("#check-in-result")).to_contain_text("+10")
    # The points block redraws itself after the check-in.
    expect(page.locator("#points-spendable")).to_have_text("1210")
    expect(page.locator("#check-in-button")).to_be_disabled()

    page.click("#card-link")
    expect(page.locator("#card-qr svg")).to_be_visible()
    _no_sideways_scrolling(page)
    svg = page.locator("#card-qr").inner_html().strip()

    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    dealer_page = context.new_page()
    dealer_page.on("pageerror", lambda error: errors.append(str(error)))
    page_signed_in(dealer_page, live_server, make_staff())
    dealer_page.goto(f"{live_server.url}/workspace/members/")
    dealer_page.wait_for_function(
        "typeof window.jsQR === 'function' && window.forecourtScanner !== undefined"
    )
    payload = qr_read(dealer_page, svg, size=500)
    assert payload is not None and payload.startswith(f"FCM1.{member.number}.")
    assert (
        dealer_page.evaluate("text => window.forecourtScanner.accept(text)", "https://example.com/") is False
    )
    assert dealer_page.evaluate("text => window.forecourtScanner.accept(text)", payload) is True
    expect(dealer_page.locator("#member-name")).to_have_text("张**")
    expect(dealer_page.locator("#member-card")).to_have_attribute("data-tier", "silver")
    expect(dealer_page.locator("#member-benefits")).to_contain_text("每年两次免费洗车")
    _no_sideways_scrolling(dealer_page)
    context.close()
    assert errors == []
    assert PointsEntry.objects.filter(member=member, reason="daily_check_in").count() == 1
