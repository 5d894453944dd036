"""The member journey of issue 6, clicked through in Chromium: a member on a phone sees their points and
tier in the rewards catalogue, redeems a car wash for points after confirming, sees the voucher's QR code
on offers' voucher page, and the partner merchant's counter writes it off; then pays the cash part of a
points + cash reward in the sandbox gateway and finds its voucher issued. No page is wider than a phone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from forecourt.accounts.services import consumer_get_or_create_by_phone
from forecourt.loyalty.models import RewardOrder, RewardOrderStatus
from forecourt.loyalty.services import member_for, points_state
from forecourt.loyalty.tests.rewards_cast import give_points, make_reward, reward_campaign
from forecourt.offers.models import Redemption, Voucher, VoucherStatus
from forecourt.offers.services import voucher_redeem
from forecourt.offers.tests.factories import make_merchant, make_merchant_staff

from .test_journeys import PHONE, PHONE_WIDTH, _code_from_outbox, _page_width

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def _member_signs_in(page: Page, base: str, settings) -> None:
    settings.DEMO_MODE = True  # the SMS outbox is readable in demo mode
    page.goto(f"{base}/account/sign-in/")
    page.fill("#phone", PHONE)
    page.click("#send-code")
    expect(page.locator("#code-sent")).to_be_visible()
    page.fill("#code", _code_from_outbox(page, base))
    page.click("#sign-in")
    page.wait_for_url(f"{base}/")


def test_a_member_sees_points_redeems_a_reward_and_shows_its_voucher(
    live_server, phone_viewport_page, settings
) -> None:
    page = phone_viewport_page
    base = live_server.url
    member = member_for(consumer_get_or_create_by_phone(phone=PHONE, display_name="张伟"))
    give_points(member, 2_500)
    merchant = make_merchant()
    wash = make_reward(title="精致洗车一次", points_cost=800, campaign=reward_campaign(merchant=merchant))
    interior = make_reward(
        title="内饰深度清洁",
        points_cost=1_500,
        cash_fen=49_00,
        campaign=reward_campaign(merchant=merchant, name="积分兑换·内饰清洁", face_value_fen=298_00),
    )

    _member_signs_in(page, base, settings)
    page.goto(f"{base}/club/rewards/")
    expect(page.locator("#wallet-points")).to_have_text("2500")
    expect(page.locator("#wallet-tier")).to_have_attribute("data-tier", "silver")
    assert _page_width(page) <= PHONE_WIDTH

    # A car wash for points: the reward, the confirmation, the redemption with its voucher.
    page.click(f"#reward-{wash.public_id}")
    expect(page.locator("#redeem-summary")).to_contain_text("800")
    expect(page.locator("#redeem-summary")).to_contain_text("1700")
    assert _page_width(page) <= PHONE_WIDTH
    page.click("#redeem-confirm")
    page.wait_for_url(re.compile(r"/club/rewards/mine/rdm_\w+/$"))
    expect(page.locator("#redemption-status")).to_have_attribute("data-status", "issued")
    order = RewardOrder.objects.get(reward=wash)
    assert points_state(member).spendable == 1_700
    page.click("#voucher-link")
    page.wait_for_url(f"{base}/offers/mine/{order.voucher_code}/")
    expect(page.locator("#voucher-qr")).to_be_visible()
    code = page.locator("#voucher-code").inner_text().replace("\n", "").replace(" ", "")
    assert code == order.voucher_code
    assert _page_width(page) <= PHONE_WIDTH

    # The car wash's counter writes it off; the member's voucher page follows.
    counter = make_merchant_staff(merchant=merchant)
    voucher_redeem(staff=counter, text=order.voucher_code, idempotency_key="journey-scan")
    page.reload()
    expect(page.locator("#voucher-status")).to_have_attribute("data-status", "redeemed")
    assert Redemption.objects.get().merchant_id == merchant.pk

    # Points and cash: confirm, pay ¥49 in the sandbox gateway, come back to the issued voucher.
    page.goto(f"{base}/club/rewards/")
    expect(page.locator("#wallet-points")).to_have_text("1700")
    page.click(f"#reward-{interior.public_id}")
    page.check("#provider-sandbox")
    page.click("#redeem-confirm")
    page.wait_for_url(re.compile(r"/payments/sandbox/\w+/$"))
    expect(page.locator("#sandbox-amount")).to_have_text("¥49")
    page.click("#sandbox-pay")
    page.wait_for_url(re.compile(r"/club/rewards/mine/rdm_\w+/$"))
    expect(page.locator("#redemption-status")).to_have_attribute("data-status", "issued", timeout=20_000)
    paid = RewardOrder.objects.get(reward=interior)
    assert paid.status == RewardOrderStatus.ISSUED
    assert Voucher.objects.get(code=paid.voucher_code).status == VoucherStatus.ACTIVE
    assert points_state(member).spendable == 200

    page.goto(f"{base}/club/rewards/mine/")
    expect(page.locator("#redemption-list > li")).to_have_count(2)
    expect(page.locator(f'[data-redemption="{paid.public_id}"] .voucher-link')).to_be_visible()
    assert _page_width(page) <= PHONE_WIDTH
