"""The dealer workspace on a phone: an advisor signs in, claims a lead, sees the number, logs a call;
the manager sees the KPI count it."""

from __future__ import annotations

import pytest

from forecourt.accounts.tests.factories import STAFF_PASSWORD
from forecourt.core.models import AuditEntry
from forecourt.leads.models import ContactAttempt, Lead
from forecourt.leads.tests.conftest import capture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, base: str, username: str, next_url: str) -> None:
    page.goto(f"{base}/account/sign-in/?method=password&next={next_url}")
    page.fill("#username", username)
    page.fill("#password", STAFF_PASSWORD)
    page.click("#sign-in-password")
    page.wait_for_url(f"{base}{next_url}")


def test_an_advisor_claims_calls_and_the_manager_sees_the_kpi(
    live_server, phone_viewport_page, browser, model, dealer, advisor, manager
):
    lead, _created = capture()
    page = phone_viewport_page
    _sign_in(page, live_server.url, advisor.username, "/workspace/leads/")

    row = page.locator(f'[data-lead-id="{lead.public_id}"]')
    assert row.is_visible()
    assert "138****8000" in row.inner_text()
    assert row.locator("time[data-deadline]").count() == 1
    row.locator("a").click()
    page.wait_for_selector("#lead-claim")
    page.click("#lead-claim")
    page.wait_for_selector("#reveal-phone")
    page.click("#reveal-phone")
    page.wait_for_selector("a.lead-phone__number")
    assert page.locator("a.lead-phone__number").inner_text() == "13800138000"

    page.select_option("#call-outcome", "reached")
    page.fill("#call-note", "约周六上午试驾")
    page.click("#call-submit")
    page.wait_for_selector("#move-visit_booked")
    assert page.locator("#lead-status").get_attribute("class") is not None
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    lead.refresh_from_db()
    assert (lead.status, lead.advisor_id) == ("contacted", advisor.pk)
    assert ContactAttempt.objects.get(lead=lead).note == "约周六上午试驾"
    assert AuditEntry.objects.filter(action="lead.phone_unmasked", actor=advisor).count() == 1

    context = browser.new_context(viewport={"width": 1024, "height": 900}, locale="zh-CN")
    manager_page = context.new_page()
    _sign_in(manager_page, live_server.url, manager.username, "/workspace/kpi/")
    assert manager_page.locator("#kpi-received").inner_text() == "1"
    assert manager_page.locator("#kpi-sla").inner_text() == "100.0%"
    assert manager_page.locator(f'#kpi-advisors tr[data-advisor="{advisor.public_id}"]').count() == 1
    manager_page.wait_for_function("document.querySelector('#kpi-chart').width > 0")
    context.close()
    assert Lead.objects.count() == 1
