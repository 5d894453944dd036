"""The home page on a phone-sized screen, driven in the system Chromium."""

from __future__ import annotations

import random

import pytest

from forecourt.catalog import demo_data as catalog_demo

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("compiled_catalogues"),
]


def test_home_fits_a_phone_screen_and_switches_to_english_in_place(live_server, phone_viewport_page) -> None:
    catalog_demo.seed(rng=random.Random(3))
    page = phone_viewport_page

    page.goto(f"{live_server.url}/?from=test")

    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.locator(".model-card").count() == 3
    # Nothing sticks out sideways at 375 px: no horizontal scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.locator(".site-nav a").first.is_visible()

    page.locator(".lang-switch button").click()
    page.wait_for_load_state()

    assert page.url == f"{live_server.url}/?from=test"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Our models").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
