"""The subsidy journey of issue 5, clicked through in Chromium: a consumer on a phone (375 px) applies for
the city's car-replacement subsidy with the scrapping certificate uploaded as a file; ops approve it on the
review page; the consumer then sees the application approved with a link to the subsidy voucher."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from forecourt.accounts.models import Role, User
from forecourt.catalog.models import VehicleModel
from forecourt.dealers.models import City
from forecourt.offers.models import ApplicationStatus, SubsidyApplication, Voucher, VoucherStatus
from forecourt.offers.tests.subsidy_fixtures import *  # noqa: F403  (the autouse `media` fixture)
from forecourt.offers.tests.subsidy_fixtures import PDF, make_programme, resident_id

from .test_journey_offers import _consumer_signs_in, _fresh_rate_limits  # noqa: F401 - a fixture
from .test_journeys import (  # noqa: F401 - demo_network is a fixture
    PHONE_WIDTH,
    STAFF_PASSWORD,
    _page_width,
    demo_network,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _ops_signs_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/account/sign-in/")
    page.click("#tab-password")
    page.fill("#username", username)
    page.fill("#password", STAFF_PASSWORD)
    page.click("#sign-in-password")
    page.wait_for_url(lambda url: "/account/sign-in/" not in url)


@pytest.mark.usefixtures("demo_network")
def test_a_consumer_applies_with_an_upload_on_a_phone_ops_approve_and_the_voucher_is_linked(
    live_server, phone_viewport_page, browser, settings
) -> None:
    page = phone_viewport_page
    base = live_server.url
    model = VehicleModel.objects.filter(is_active=True).order_by("position", "code").first()
    programme = make_programme(models=[model], city=City.objects.get(code="shanghai"))
    User.objects.create_user(
        username="journey-ops", password=STAFF_PASSWORD, role=Role.OPS, display_name="运营 周婷"
    )

    _consumer_signs_in(page, base, settings)
    page.goto(f"{base}/subsidies/")
    page.click(f"a[href='/subsidies/{programme.public_id}/apply/']")
    expect(page.locator("#subsidy-apply-form")).to_be_visible()
    assert _page_width(page) <= PHONE_WIDTH
    page.fill("#id_full_name", "张伟")
    page.select_option("#id_id_type", "resident_id")
    page.fill("#id_id_number", resident_id())
    page.fill("#id_scrapped_plate", "沪A12345")
    page.fill("#id_certificate_number", "SH2026000123")
    page.set_input_files(
        "#id_certificate", files=[{"name": "报废证明.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.select_option("#id_intended_model", model.code)
    page.click("#subsidy-apply-submit")
    page.wait_for_url(f"{base}/subsidies/mine/")
    application = SubsidyApplication.objects.get(programme=programme)
    card = page.locator(f"li[data-application='{application.public_id}']")
    expect(card).to_have_attribute("data-status", "submitted")
    assert _page_width(page) <= PHONE_WIDTH
    assert application.certificate_content_type == "application/pdf"
    assert not Voucher.objects.exists()

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    ops = context.new_page()
    ops.set_default_timeout(15_000)
    try:
        _ops_signs_in(ops, base, "journey-ops")
        ops.goto(f"{base}/subsidies/ops/")
        ops.click(f"tr[data-application='{application.public_id}'] a")
        expect(ops.locator("#application-status")).to_be_visible()
        ops.click("#approve-button")
        ops.wait_for_url(f"{base}/subsidies/ops/?programme={programme.public_id}")
    finally:
        context.close()

    application.refresh_from_db()
    voucher = Voucher.objects.get(application=application)
    assert application.status == ApplicationStatus.APPROVED
    assert (voucher.holder_id, voucher.status) == (application.applicant_id, VoucherStatus.ACTIVE)

    page.goto(f"{base}/subsidies/mine/")
    expect(card).to_have_attribute("data-status", "approved")
    link = card.locator("a.voucher-link")
    expect(link).to_have_attribute("href", f"/offers/mine/{voucher.code}/")
    assert _page_width(page) <= PHONE_WIDTH
    link.click()
    page.wait_for_url(f"{base}/offers/mine/{voucher.code}/")
    expect(page.locator("#voucher-status")).to_have_attribute("data-status", "active")
    assert _page_width(page) <= PHONE_WIDTH
