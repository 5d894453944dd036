"""Signing in on a phone-sized screen with the code from the demo outbox, in the system Chromium."""

import re

import pytest

from forecourt.accounts.tests.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_with_a_code_read_from_the_demo_outbox(live_server, phone_viewport_page, settings):
    settings.DEMO_MODE = True
    page = phone_viewport_page
    page.goto(f"{live_server.url}/account/sign-in/?next=/account/")
    assert page.locator("#demo-outbox-link").is_visible()

    page.fill("#phone", PHONE)
    page.click("#send-code")
    page.wait_for_selector("#code-sent")
    # Sending the code happened in place (htmx): still on the sign-in page, the number still typed.
    assert page.url.endswith("/account/sign-in/?next=/account/")
    assert page.input_value("#phone") == PHONE

    messages = page.request.get(f"{live_server.url}/demo/outbox.json?phone={PHONE}").json()
    assert messages[0]["phone"] == "138****8000"
    found = re.search(r"(?<!\d)\d{6}(?!\d)", messages[0]["text"])
    assert found is not None
    code = found.group()

    page.fill("#code", code)
    page.click("#sign-in")
    page.wait_for_url(f"{live_server.url}/account/")

    assert page.locator("#profile-phone").inner_text() == "138****8000"
    assert page.locator("#consent-account_terms").get_attribute("data-active") == "true"
    # Comfortable at 375 px: nothing sticks out sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
