"""The configurator journey in a phone-sized Chromium: live price without reloads, save, share link."""

import pytest
from playwright.sync_api import expect

from forecourt.catalog.models import SavedConfiguration
from forecourt.catalog.tests.factories import build_catalogue


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_configure_see_the_price_change_save_and_open_the_share_link(live_server, phone_viewport_page):
    build_catalogue()
    page = phone_viewport_page

    page.goto(f"{live_server.url}/configure/aurora-std/")
    total = page.locator("#total")
    expect(total).to_have_text("¥229,900")
    # A full reload would drop this marker: the price must change in place.
    page.evaluate("window.__sameDocument = true")

    page.locator('input[name="options"][value="red"]').check()
    expect(total).to_have_text("¥237,900")
    page.locator('input[name="options"][value="pilot"]').check()
    expect(total).to_have_text("¥262,900")
    expect(page.locator("#note-hud")).to_have_text("已包含在智驾包中")
    page.locator('input[name="options"][value="audio"]').check()
    expect(page.locator("#note-audio")).to_have_text("高级音响需要同时选装舒适包。")
    page.locator('input[name="options"][value="audio"]').uncheck()
    expect(page.locator("#note-audio")).to_have_text("")
    expect(total).to_have_text("¥262,900")
    assert page.evaluate("window.__sameDocument") is True
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    page.locator("#save-configuration").click()
    page.wait_for_url("**/c/*/")
    expect(page.locator("#total")).to_have_text("¥262,900")
    share_link = page.locator("#share-link").input_value()
    saved = SavedConfiguration.objects.get()
    assert share_link == f"{live_server.url}/c/{saved.share_code}/"
    assert saved.option_codes == ["black-int", "pilot", "red", "wheels-18"]

    page.goto(share_link)
    expect(page.locator("#total")).to_have_text("¥262,900")
    expect(page.locator("#saved-lines tr[data-code=hud]")).to_contain_text("已包含")
