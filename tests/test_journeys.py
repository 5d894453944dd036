"""The journeys a person takes across the apps, clicked through in a phone-sized Chromium.

Each app's own browser tests prove its pages; these prove that the pages join up into what issues 2
and 3 promise: a newcomer signs in with a text code, configures a car, saves and shares it and finds
the nearest store; a test drive booked on a phone reaches a dealer's advisor, who claims and calls
the lead and checks the visitor in, and the manager's KPIs count it. And no page is wider than a phone.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from playwright.sync_api import Locator, Page, expect

from forecourt.accounts.models import Role, User
from forecourt.appointments.models import Appointment, AppointmentStatus
from forecourt.appointments.services import slots_for_day
from forecourt.catalog import demo_data as catalog_demo
from forecourt.catalog.models import SavedConfiguration, Trim, VehicleModel
from forecourt.catalog.selectors import configuration_quote
from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.dealers import demo_data as dealers_demo
from forecourt.dealers.forms import DEFAULT_LIMIT
from forecourt.dealers.models import City, Dealer
from forecourt.dealers.selectors import dealer_nearest
from forecourt.leads.models import ContactAttempt, Lead, LeadStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = "13800138000"
PHONE_WIDTH = 375
STAFF_PASSWORD = "journey-staff-password"
# Monday 23 November 2026, 08:00 in Shanghai: before the stores open, so the whole day is bookable,
# and before business hours (08:30), so a call logged now is well inside the first-contact SLA.
MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=SHANGHAI)
OUTBOX_CODE = re.compile(r"(?<!\d)\d{6}(?!\d)")
CALL_NOTE = "确认周一上午到店试驾星澜"


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    # Sign-in codes and bookings are rate limited in the cache: every journey starts from zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def demo_network() -> None:
    """The demo's cities, stores and cars (the seeds `forecourt demo` loads), without leads or bookings."""
    dealers_demo.seed(rng=random.Random(1))
    catalog_demo.seed(rng=random.Random(1))


def _page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def _code_from_outbox(page: Page, base: str) -> str:
    """The sign-in code, read where a person trying the demo reads it: the demo outbox."""
    messages = page.request.get(f"{base}/demo/outbox.json?phone={PHONE}").json()
    found = OUTBOX_CODE.search(messages[0]["text"])
    assert found is not None, messages[0]["text"]
    return found.group()


def _main_nav(page: Page) -> Locator:
    return page.locator("nav.site-nav")


def _htmx_ready(page: Page) -> None:
    """Wait until htmx (loaded with `defer`) has started, so a change event right away is not lost."""
    page.wait_for_load_state("load")
    page.wait_for_function("() => window.htmx !== undefined && document.readyState === 'complete'")


def _workspace_nav(page: Page) -> Locator:
    return page.locator("nav.workspace-nav")


def test_no_page_of_the_consumer_journey_is_wider_than_a_phone(
    live_server, phone_viewport_page, demo_network
) -> None:
    page = phone_viewport_page
    base = live_server.url
    shanghai_store = Dealer.objects.filter(city__code="shanghai", offers_test_drive=True).order_by("name")[0]
    compare = "&".join(f"trims={trim.code}" for trim in Trim.objects.order_by("model__code", "code")[:3])
    paths = [
        "/",
        *(f"/models/{model.code}/" for model in VehicleModel.objects.order_by("code")),
        *(f"/configure/{trim.code}/" for trim in Trim.objects.order_by("code")),
        "/compare/",
        f"/compare/?{compare}",
        "/dealers/",
        "/dealers/?city=shanghai",
        f"/dealers/{shanghai_store.public_id}/",
        "/account/sign-in/",
        "/account/sign-in/?method=password",
        "/test-drive/",
        f"/test-drive/?dealer={shanghai_store.public_id}",
    ]

    # Every configurator, in both languages: one was 445 px wide once, when its two-column paint grid
    # asked for its widest price in each column (catalog.css keeps the choices inside the screen now).
    too_wide = {}
    for language in ("zh-hans", "en"):
        page.context.add_cookies(
            [{"name": django_settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}]
        )
        for path in paths:
            response = page.goto(base + path)
            assert response is not None and response.status == 200, path
            width = _page_width(page)
            if width > PHONE_WIDTH:
                too_wide[f"{language} {path}"] = width

    assert too_wide == {}


def test_a_newcomer_signs_in_by_text_configures_saves_and_shares_a_car(
    live_server, phone_viewport_page, browser, settings, demo_network
) -> None:
    settings.DEMO_MODE = True
    page = phone_viewport_page
    base = live_server.url

    # Sign in with the code from the demo outbox.
    page.goto(f"{base}/account/sign-in/")
    page.fill("#phone", PHONE)
    page.click("#send-code")
    expect(page.locator("#code-sent")).to_be_visible()
    page.fill("#code", _code_from_outbox(page, base))
    page.click("#sign-in")
    page.wait_for_url(f"{base}/")
    _main_nav(page).get_by_role("link", name="我的", exact=True).click()
    expect(page.locator("#profile-phone")).to_have_text("138****8000")
    expect(_main_nav(page).get_by_role("link", name="我的预约")).to_be_visible()

    # From the navigation to the models, and into the electric sedan's configurator.
    _main_nav(page).get_by_role("link", name="车型").click()
    page.locator('.model-card[data-model="xinglan"] a[href^="/configure/"]').click()
    page.wait_for_url(re.compile(r"/configure/[\w-]+/$"))
    _htmx_ready(page)
    trim_code = page.url.rstrip("/").rsplit("/", 1)[1]
    total = page.locator("#total")
    starting_codes = page.eval_on_selector_all(
        'input[name="options"]:checked:not([disabled])', "inputs => inputs.map(input => input.value)"
    )
    starting = configuration_quote(trim_code=trim_code, option_codes=starting_codes)
    expect(total).to_have_text(str(starting.total))
    # A full page load would lose this: the price must change in place.
    page.evaluate("window.__journeyMarker = 'still here'")

    paid_paint = page.locator("#group-paint .choice").filter(has_text="+¥").first
    paint_code = paid_paint.locator("input").get_attribute("value")
    paint_name = paid_paint.locator(".choice__name").inner_text()
    paid_paint.locator("label").click()
    paid_option = page.locator("#group-option .choice").filter(has_text="+¥").first
    option_code = paid_option.locator("input").get_attribute("value")
    paid_option.locator("label").click()

    chosen = page.eval_on_selector_all(
        'input[name="options"]:checked:not([disabled])', "inputs => inputs.map(input => input.value)"
    )
    assert {paint_code, option_code} <= set(chosen)
    expected = configuration_quote(trim_code=trim_code, option_codes=chosen)
    assert expected.valid
    assert expected.total != starting.total
    expect(total).to_have_text(str(expected.total))
    expect(total).to_have_attribute("data-valid", "true")
    assert page.evaluate("window.__journeyMarker") == "still here"
    assert _page_width(page) <= PHONE_WIDTH

    # Save, then open the share link as someone else would: not signed in, on their own phone.
    page.click("#save-configuration")
    page.wait_for_url(re.compile(r"/c/[0-9A-Z]+/$"))
    expect(page.locator("#total")).to_have_text(str(expected.total))
    share_link = page.locator("#share-link").input_value()
    saved = SavedConfiguration.objects.get(owner__isnull=False)
    assert page.url == share_link == f"{base}/c/{saved.share_code}/"
    assert sorted(saved.option_codes) == sorted(chosen)
    assert saved.owner is not None and saved.owner.masked_phone == "138****8000"

    friend = browser.new_context(viewport={"width": PHONE_WIDTH, "height": 812}, locale="zh-CN")
    try:
        shared = friend.new_page()
        shared.goto(share_link)
        expect(shared.locator("#total")).to_have_text(str(expected.total))
        expect(shared.locator("#saved-lines")).to_contain_text(paint_name)
        assert _page_width(shared) <= PHONE_WIDTH
    finally:
        friend.close()


def test_a_visitor_finds_the_nearest_store_in_a_city_and_goes_to_book_there(
    live_server, phone_viewport_page, demo_network
) -> None:
    page = phone_viewport_page
    base = live_server.url
    hangzhou = City.objects.get(code="hangzhou")
    nearest_first = dealer_nearest(
        latitude=hangzhou.latitude, longitude=hangzhou.longitude, city_code="hangzhou", limit=DEFAULT_LIMIT
    )
    assert len(nearest_first) >= 3

    page.goto(base)
    _main_nav(page).get_by_role("link", name="门店").click()
    page.wait_for_url(f"{base}/dealers/")
    _htmx_ready(page)
    page.select_option("#city", "hangzhou")

    results = page.locator("#dealer-results .dealer-result")
    expect(results).to_have_count(len(nearest_first))
    shown = results.evaluate_all(
        "items => items.map(item => [item.dataset.dealerId, Number(item.dataset.distanceKm)])"
    )
    assert [dealer_id for dealer_id, _km in shown] == [found.dealer.public_id for found in nearest_first]
    distances = [km for _dealer_id, km in shown]
    assert distances == sorted(distances)
    assert _page_width(page) <= PHONE_WIDTH

    # The nearest store that offers test drives: open it and book there.
    nearest_test_drive = next(found.dealer for found in nearest_first if found.dealer.offers_test_drive)
    page.locator(f'.dealer-result[data-dealer-id="{nearest_test_drive.public_id}"] h3 a').click()
    expect(page.locator("h1")).to_have_text(nearest_test_drive.name)
    page.click("#book-test-drive")
    expect(page).to_have_url(f"{base}/test-drive/?dealer={nearest_test_drive.public_id}")
    expect(page.locator("#city")).to_have_value("hangzhou")
    expect(page.locator("#dealer")).to_have_value(nearest_test_drive.public_id)


def _bookable_store(day: date) -> Dealer:
    """A Shanghai dealer of the demo network that sells cars and has a free test-drive place on `day`.

    (An experience store shows cars but does not sell them: its bookings' leads go to a dealer.)
    """
    stores = Dealer.objects.filter(city__code="shanghai", offers_test_drive=True, offers_sales=True)
    for dealer in stores.order_by("name"):
        if any(slot.remaining for slot in slots_for_day(dealer=dealer, kind="test_drive", day=day)):
            return dealer
    raise AssertionError("no Shanghai store has a test-drive place on the day")


def _staff(dealer: Dealer, role: str, username: str, name: str) -> User:
    return User.objects.create_user(
        username=username, password=STAFF_PASSWORD, role=role, dealer=dealer, display_name=name
    )


def _sign_in_with_password(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/account/sign-in/")
    page.click("#tab-password")
    page.fill("#username", username)
    page.fill("#password", STAFF_PASSWORD)
    page.click("#sign-in-password")
    # Sales staff and managers start in their lead inbox.
    page.wait_for_url(f"{base}/workspace/leads/")


def _kpis(page: Page) -> dict[str, str]:
    tiles = ("received", "sla", "visit")
    return {tile: page.locator(f"#kpi-{tile}").inner_text() for tile in tiles}


def test_a_test_drive_booked_on_a_phone_is_claimed_called_checked_in_and_counted(
    live_server, phone_viewport_page, browser, demo_network
) -> None:
    base = live_server.url
    with clock.frozen_at(MONDAY_8):
        store = _bookable_store(MONDAY_8.date())
        advisor = _staff(store, Role.SALES_ADVISOR, "journey-advisor", "王芳")
        manager = _staff(store, Role.DEALER_MANAGER, "journey-manager", "陈经理")

        # A consumer books a test drive at the store, sharing their details with it.
        consumer = phone_viewport_page
        consumer.goto(base)
        _main_nav(consumer).get_by_role("link", name="预约试驾").click()
        _htmx_ready(consumer)
        consumer.select_option("#city", "shanghai")
        expect(consumer.locator(f'#dealer option[value="{store.public_id}"]')).to_have_count(1)
        consumer.select_option("#dealer", store.public_id)
        consumer.locator("label.slot", has=consumer.locator(".slot-option:not([disabled])")).first.click()
        consumer.fill("#name", "张伟")
        consumer.fill("#phone", "138 0013 8000")
        consumer.select_option("#model", "xinglan")
        consumer.check("#consent-share")
        assert _page_width(consumer) <= PHONE_WIDTH
        consumer.click("#book-submit")
        expect(consumer).to_have_url(re.compile(r"/appointments/ap_[0-9A-Z]+/$"))
        appointment = Appointment.objects.get()
        expect(consumer.locator("#appointment-code")).to_have_text(appointment.code)
        short_code = consumer.locator("#appointment-code").inner_text()
        lead = Lead.objects.get(public_id=appointment.lead_id)
        assert (lead.dealer_id, lead.status, lead.advisor_id) == (store.pk, LeadStatus.VISIT_BOOKED, None)

        # The manager's KPIs count the lead as received; nobody has called or visited yet.
        manager_context = browser.new_context(viewport={"width": PHONE_WIDTH, "height": 812}, locale="zh-CN")
        try:
            manager_page = manager_context.new_page()
            _sign_in_with_password(manager_page, base, manager.username)
            _workspace_nav(manager_page).get_by_role("link", name="指标").click()
            manager_page.wait_for_url(f"{base}/workspace/kpi/")
            assert _kpis(manager_page) == {"received": "1", "sla": "–", "visit": "0.0%"}

            # The advisor signs in with a password, finds the lead, claims it and logs a call.
            advisor_context = browser.new_context(
                viewport={"width": PHONE_WIDTH, "height": 812}, locale="zh-CN"
            )
            try:
                staff = advisor_context.new_page()
                _sign_in_with_password(staff, base, advisor.username)
                _workspace_nav(staff).get_by_role("link", name="线索").click()
                row = staff.locator(f'[data-lead-id="{lead.public_id}"]')
                expect(row).to_contain_text("张伟")
                expect(row).to_contain_text("138****8000")
                row.locator("a").click()
                staff.click("#lead-claim")
                expect(staff.locator("#lead-advisor")).to_have_text("王芳")
                staff.select_option("#call-outcome", "reached")
                staff.fill("#call-note", CALL_NOTE)
                staff.click("#call-submit")
                expect(staff.locator("#call-log")).to_be_visible()
                assert _page_width(staff) <= PHONE_WIDTH

                # The visitor arrives: checked in by the short code on their confirmation page.
                _workspace_nav(staff).get_by_role("link", name="签到").click()
                staff.fill("#check-in-code", short_code.lower())
                staff.click("#check-in-submit")
                expect(staff.locator("#check-in-ok")).to_contain_text("张伟")
                assert _page_width(staff) <= PHONE_WIDTH
            finally:
                advisor_context.close()

            # The manager sees it: contacted within the SLA, and visited.
            manager_page.reload()
            assert _kpis(manager_page) == {"received": "1", "sla": "100.0%", "visit": "100.0%"}
            expect(
                manager_page.locator(f'#kpi-advisors tr[data-advisor="{advisor.public_id}"]')
            ).to_contain_text("王芳")
            assert _page_width(manager_page) <= PHONE_WIDTH
        finally:
            manager_context.close()

    appointment.refresh_from_db()
    lead.refresh_from_db()
    assert (appointment.status, appointment.checked_in_by_id) == (AppointmentStatus.CHECKED_IN, advisor.pk)
    assert (lead.status, lead.advisor_id) == (LeadStatus.VISITED, advisor.pk)
    attempt = ContactAttempt.objects.get(lead=lead)
    assert (attempt.staff_id, attempt.outcome, attempt.note) == (advisor.pk, "reached", CALL_NOTE)
