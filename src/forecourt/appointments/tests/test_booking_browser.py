"""A consumer books a test drive on a phone-sized page and sees the code; staff check the visitor in."""

import re

import pytest
from playwright.sync_api import expect

from forecourt.appointments.models import Appointment, AppointmentStatus
from forecourt.appointments.qr import qr_payload
from forecourt.core.models import Event
from forecourt.core.qrcodes import qr_svg
from forecourt.core.tests.browser import page_signed_in, qr_read

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _no_sideways_scrolling(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_consumer_books_a_test_drive_on_a_phone_and_sees_the_code(
    live_server, phone_viewport_page, dealer, model, frozen
):
    page = phone_viewport_page
    page.goto(f"{live_server.url}/test-drive/")
    expect(page.locator("h1")).to_have_text("预约试驾")
    _no_sideways_scrolling(page)

    page.select_option("#city", "shanghai")
    expect(page.locator(f'#dealer option[value="{dealer.public_id}"]')).to_have_count(1)
    page.select_option("#dealer", dealer.public_id)
    # Monday 08:00: all nine of today's hourly test-drive slots are ahead, two places each.
    expect(page.locator(".slot-option")).to_have_count(9)
    expect(page.locator("#slot-list")).to_contain_text("剩 2 个名额")
    page.locator("label.slot", has=page.locator('.slot-option[value="2026-11-23T10:00:00+08:00"]')).click()

    page.fill("#name", "张伟")
    page.fill("#phone", "138 0013 8000")
    page.select_option("#model", "aurora")
    page.check("#consent-share")
    _no_sideways_scrolling(page)
    page.click("#book-submit")

    expect(page).to_have_url(re.compile(r"/appointments/ap_[0-9A-Z]+/$"))
    appointment = Appointment.objects.get()
    expect(page.locator("#appointment-code")).to_have_text(appointment.code)
    expect(page.locator(".appointment-qr svg")).to_be_visible()
    expect(page.locator(".appointment-facts")).to_contain_text("2026-11-23")
    _no_sideways_scrolling(page)
    assert appointment.slot.start.isoformat() == "2026-11-23T02:00:00+00:00"
    assert Event.objects.filter(name="appointment.booked", subject_id=appointment.public_id).count() == 1


def test_an_advisor_checks_the_visitor_in_by_short_code_on_a_phone(
    live_server, phone_viewport_page, book, advisor, frozen
):
    appointment = book()
    page = phone_viewport_page
    # Signed in as the advisor (the sign-in page itself is the accounts app's browser test).
    page_signed_in(page, live_server, advisor)
    page.goto(f"{live_server.url}/workspace/check-in/")
    expect(page.locator("h1")).to_have_text("客户签到")

    page.fill("#check-in-code", appointment.code.lower())
    page.click("#check-in-submit")
    expect(page.locator("#check-in-ok")).to_contain_text(appointment.name)
    expect(page.locator("#check-in-who")).to_contain_text(str(advisor))
    _no_sideways_scrolling(page)
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.CHECKED_IN

    page.fill("#check-in-code", appointment.code)
    page.click("#check-in-submit")
    expect(page.locator("#check-in-error")).to_have_attribute("data-code", "already_checked_in")


def test_a_scanned_qr_code_checks_the_visitor_in(live_server, phone_viewport_page, book, advisor, frozen):
    """Our QR image decodes with the page's jsQR; the scanner path posts it; the server decides."""
    appointment = book()
    payload = qr_payload(public_id=appointment.public_id, code=appointment.code)
    page = phone_viewport_page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page_signed_in(page, live_server, advisor)
    page.goto(f"{live_server.url}/workspace/check-in/")
    page.wait_for_function("typeof window.jsQR === 'function' && window.forecourtScanner !== undefined")

    assert qr_read(page, qr_svg(payload)) == payload
    assert (
        page.evaluate("text => window.forecourtScanner.accept(text)", "https://example.com/not-ours") is False
    )
    assert page.evaluate("text => window.forecourtScanner.accept(text)", payload) is True
    expect(page.locator("#check-in-ok")).to_contain_text(appointment.name)
    assert Appointment.objects.get(pk=appointment.pk).checked_in_by == advisor
    assert errors == []
