"""The broker journey of issue 6, clicked through in Chromium: a broker copies their link for a model from
their page, a friend opens it on a phone in another browser and books a test drive, and the broker sees
the referral arrive on their page. No page of the friend's is wider than a phone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from forecourt.accounts.models import Role, User
from forecourt.appointments.models import Appointment
from forecourt.core import clock
from forecourt.referrals.models import Broker, Referral
from forecourt.referrals.services import broker_enrol

from .test_journeys import (  # noqa: F401 - demo_network is a fixture
    MONDAY_8,
    PHONE_WIDTH,
    STAFF_PASSWORD,
    _bookable_store,
    _htmx_ready,
    _page_width,
    demo_network,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MODEL = "xinglan"


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def _sign_in_with_password(page: Page, base: str, username: str, next_path: str) -> None:
    page.goto(f"{base}/account/sign-in/?next={next_path}")
    page.click("#tab-password")
    page.fill("#username", username)
    page.fill("#password", STAFF_PASSWORD)
    page.click("#sign-in-password")
    page.wait_for_url(f"{base}{next_path}")


def _broker_copies_the_link(broker_page: Page, base: str, broker: Broker) -> str:
    """The broker, on a phone, copies the link for the 星澜 from their page; the link copied."""
    _sign_in_with_password(broker_page, base, broker.user.username, "/broker/")
    expect(broker_page.locator("#broker-code")).to_have_text(broker.code)
    expect(broker_page.locator("#no-referrals")).to_be_visible()
    broker_page.wait_for_load_state("load")
    broker_page.click(f"#copy-{MODEL}")
    expect(broker_page.locator(f"#copy-{MODEL}")).to_have_attribute("data-done", "")
    link = broker_page.evaluate("navigator.clipboard.readText()")
    assert link == f"{base}/r/{broker.code}/?m={MODEL}"
    assert _page_width(broker_page) <= PHONE_WIDTH
    return str(link)


def _friend_books_a_test_drive(friend: Page, link: str, store: Any) -> None:
    """A friend opens the link in their own browser and books a test drive from the invitation."""
    friend.goto(link)
    expect(friend.locator("#broker-invitation")).to_contain_text("林浩")
    assert _page_width(friend) <= PHONE_WIDTH
    friend.click("#book-test-drive")
    friend.wait_for_url(re.compile(rf"/test-drive/\?model={MODEL}$"))
    _htmx_ready(friend)
    expect(friend.locator("#model")).to_have_value(MODEL)
    friend.select_option("#city", "shanghai")
    expect(friend.locator(f'#dealer option[value="{store.public_id}"]')).to_have_count(1)
    friend.select_option("#dealer", store.public_id)
    friend.locator("label.slot", has=friend.locator(".slot-option:not([disabled])")).first.click()
    friend.fill("#name", "王芳")
    friend.fill("#phone", "139 1234 5678")
    friend.check("#consent-share")
    friend.click("#book-submit")
    expect(friend).to_have_url(re.compile(r"/appointments/ap_[0-9A-Z]+/$"))


@pytest.mark.usefixtures("demo_network")
def test_a_broker_copies_a_link_a_friend_books_a_test_drive_and_the_referral_arrives(
    live_server, browser, phone_viewport_page
) -> None:
    base = live_server.url
    with clock.frozen_at(MONDAY_8):
        store = _bookable_store(MONDAY_8.date())
        ops = User.objects.create_user(username="journey-ops", password=STAFF_PASSWORD, role=Role.OPS)
        broker_user = User.objects.create_user(
            username="journey-broker", password=STAFF_PASSWORD, role=Role.BROKER, display_name="林浩"
        )
        broker = broker_enrol(user=broker_user, actor=ops, kind="professional", city=store.city)

        broker_context = browser.new_context(
            viewport={"width": PHONE_WIDTH, "height": 812},
            locale="zh-CN",
            permissions=["clipboard-read", "clipboard-write"],
        )
        try:
            broker_page = broker_context.new_page()
            broker_page.set_default_timeout(15_000)
            link = _broker_copies_the_link(broker_page, base, broker)
            _friend_books_a_test_drive(phone_viewport_page, link, store)
            appointment = Appointment.objects.get()

            # The broker sees the referral arrive: the friend's name masked, at its first stage.
            referral = Referral.objects.get()
            assert (referral.broker_id, referral.lead_public_id, referral.model_code) == (
                broker.pk,
                appointment.lead_id,
                MODEL,
            )
            broker_page.reload()
            row = broker_page.locator(f'[data-referral-id="{referral.public_id}"]')
            expect(row).to_have_attribute("data-stage", "referred")
            expect(row).to_contain_text("王*")
            expect(broker_page.locator("#referral-count")).to_have_text("1")
            assert _page_width(broker_page) <= PHONE_WIDTH

            # The poster for the same model carries the same link in its QR code, and fits the phone.
            broker_page.goto(f"{base}/broker/poster/?m={MODEL}")
            expect(broker_page.locator("#poster-url")).to_have_text(link)
            expect(broker_page.locator("#poster-qr svg")).to_be_visible()
            assert _page_width(broker_page) <= PHONE_WIDTH
        finally:
            broker_context.close()
