"""Workspace pages and the inquiry form endpoint."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from forecourt.accounts.models import User
from forecourt.core import clock
from forecourt.core.models import AuditEntry, Event
from forecourt.leads.models import ContactAttempt, Lead, Touchpoint
from forecourt.leads.tests.conftest import MONDAY_10, OTHER_PHONE, capture

pytestmark = pytest.mark.django_db
HX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_visitors_are_sent_to_sign_in_and_consumers_refused(routed_lead):
    response = Client().get("/workspace/leads/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign-in"))
    consumer = User.objects.get(pk=routed_lead.person_id)
    assert signed_in(consumer).get("/workspace/leads/").status_code == 403


def test_the_inbox_shows_my_dealers_leads_with_a_countdown(routed_lead, advisor, other_dealer):
    capture(phone=OTHER_PHONE, city_code="hangzhou")

    response = signed_in(advisor).get("/workspace/leads/")

    assert response.status_code == 200
    html = response.content.decode()
    assert routed_lead.public_id in html
    assert html.count('class="card lead-item') == 1
    assert 'data-deadline="2026-11-23T12:00:00+08:00"' in html
    assert "138****8000" in html
    assert "13800138000" not in html


def test_overdue_leads_are_highlighted(routed_lead, advisor):
    with clock.frozen_at(MONDAY_10 + timedelta(hours=2, minutes=5)):
        html = signed_in(advisor).get("/workspace/leads/?overdue=on").content.decode()

    assert "lead-item--escalation_due" in html
    assert 'id="overdue-count"' in html


def test_another_dealers_lead_page_is_404(routed_lead, other_advisor):
    assert signed_in(other_advisor).get(f"/workspace/leads/{routed_lead.public_id}/").status_code == 404
    response = signed_in(other_advisor).post(f"/workspace/leads/{routed_lead.public_id}/claim/")
    assert response.status_code == 404
    assert Lead.objects.get(pk=routed_lead.pk).advisor_id is None


def test_claim_reveal_and_log_a_call_from_the_lead_page(routed_lead, advisor):
    client = signed_in(advisor)
    page = client.get(f"/workspace/leads/{routed_lead.public_id}/").content.decode()
    assert 'id="lead-claim"' in page
    assert 'id="reveal-phone"' not in page

    assert client.post(f"/workspace/leads/{routed_lead.public_id}/claim/").status_code == 302
    page = client.get(f"/workspace/leads/{routed_lead.public_id}/").content.decode()
    assert 'id="reveal-phone"' in page and 'id="call-form"' in page

    revealed = client.post(f"/workspace/leads/{routed_lead.public_id}/phone/", **HX)
    assert revealed.status_code == 200
    assert 'href="tel:+8613800138000"' in revealed.content.decode()
    assert AuditEntry.objects.filter(action="lead.phone_unmasked", actor=advisor).count() == 1

    logged = client.post(
        f"/workspace/leads/{routed_lead.public_id}/calls/", {"outcome": "reached", "note": "约周六"}
    )
    assert logged.status_code == 302
    assert ContactAttempt.objects.get().note == "约周六"
    assert Lead.objects.get(pk=routed_lead.pk).status == "contacted"
    page = client.get(f"/workspace/leads/{routed_lead.public_id}/").content.decode()
    assert 'id="move-visit_booked"' in page and 'id="defeat-form"' in page


def test_a_refused_action_shows_a_message_and_changes_nothing(routed_lead, advisor):
    client = signed_in(advisor)

    response = client.post(
        f"/workspace/leads/{routed_lead.public_id}/calls/", {"outcome": "reached"}, follow=True
    )

    assert response.status_code == 200
    assert "flash--error" in response.content.decode()
    assert ContactAttempt.objects.count() == 0


def test_the_manager_sees_defeats_to_review_and_assigns(claimed_lead, advisor, second_advisor, manager):
    from forecourt.leads.services import contact_attempt_log, lead_defeat_request

    contact_attempt_log(lead=claimed_lead, actor=advisor, outcome="no_answer")
    lead_defeat_request(
        lead=claimed_lead,
        actor=advisor,
        reason="unreachable",
        evidence="Five calls over three days, never answered.",
    )
    client = signed_in(manager)

    assert 'id="defeats-to-review"' in client.get("/workspace/leads/").content.decode()
    page = client.get(f"/workspace/leads/{claimed_lead.public_id}/").content.decode()
    assert 'id="defeat-review-form"' in page and 'id="assign-form"' in page
    client.post(f"/workspace/leads/{claimed_lead.public_id}/assign/", {"advisor": second_advisor.public_id})
    assert Lead.objects.get(pk=claimed_lead.pk).advisor == second_advisor
    client.post(f"/workspace/leads/{claimed_lead.public_id}/defeat-review/", {"decision": "reject"})
    assert Lead.objects.get(pk=claimed_lead.pk).status == "assigned"


def test_the_kpi_page_draws_a_chart(routed_lead, manager):
    response = signed_in(manager).get("/workspace/kpi/?start=2026-11-01&end=2026-11-30")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="kpi-chart"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert 'id="kpi-received">1<' in html


def test_staff_record_a_walk_in(frozen, model, dealer, advisor):
    response = signed_in(advisor).post(
        "/workspace/leads/new/",
        {
            "name": "王芳",
            "phone": OTHER_PHONE,
            "model": "aurora",
            "channel": "walk_in",
            "share_with_dealer": "on",
        },
    )

    lead = Lead.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/workspace/leads/{lead.public_id}/"
    assert (lead.advisor, lead.status) == (advisor, "contacted")


def test_the_inquiry_form_posts_a_lead_with_htmx(frozen, model, dealer):
    response = Client().post(
        "/leads/inquiry/",
        {
            "model": "aurora",
            "channel": "web_question",
            "name": "李娜",
            "phone": "139 1234 5678",
            "city": "shanghai",
            "question": "有现车吗？",
            "share_with_dealer": "on",
            "utm_source": "dongchedi",
            "landing_page": "/models/aurora/",
        },
        **HX,
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="inquiry-result"' in html
    lead = Lead.objects.get()
    assert lead.dealer == dealer
    touch = Touchpoint.objects.get()
    assert (touch.channel, touch.message, touch.utm, touch.landing_page) == (
        "web_question",
        "有现车吗？",
        {"utm_source": "dongchedi"},
        "/models/aurora/",
    )


def test_the_inquiry_form_comes_back_with_the_error(frozen, model, dealer):
    response = Client().post(
        "/leads/inquiry/",
        {
            "model": "aurora",
            "channel": "web_price_inquiry",
            "name": "李娜",
            "phone": "12345",
            "city": "shanghai",
        },
        **HX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="inquiry-form"' in html and 'id="inquiry-error"' in html
    assert Lead.objects.count() == 0
    assert Event.objects.count() == 0


def test_the_inquiry_form_include_renders_on_any_page(db, model, city):
    from django.template import Context, Template
    from django.test import RequestFactory

    request = RequestFactory().get("/models/aurora/?utm_source=douyin")
    html = Template('{% include "leads/_inquiry_form.html" with inquiry_model=model %}').render(
        Context({"model": model, "request": request})
    )

    assert 'id="inquiry-form"' in html and 'id="inquiry-phone"' in html and 'id="inquiry-consent"' in html
    assert 'value="shanghai"' in html
    assert 'name="utm_source" value="douyin"' in html


def test_pages_are_chinese_by_default_and_english_on_request(routed_lead, advisor):
    client = signed_in(advisor)

    chinese = client.get("/workspace/leads/").content.decode()
    english = client.get("/workspace/leads/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "线索收件箱" in chinese
    assert "Lead inbox" in english
