"""API contracts: the public inquiry endpoint, the dealer workspace and the ops endpoints."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from forecourt.core import clock
from forecourt.core.models import AuditEntry, Event
from forecourt.leads import throttle as leads_api
from forecourt.leads.models import ContactAttempt, DefeatReview, Lead, Touchpoint
from forecourt.leads.services import contact_attempt_log, lead_claim
from forecourt.leads.tests.conftest import MONDAY_10, OTHER_PHONE, PHONE

pytestmark = pytest.mark.django_db
EVIDENCE = "Called three times on Monday and Tuesday; she bought a competitor's SUV last week."


def inquiry(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "张伟",
        "phone": PHONE,
        "city": "shanghai",
        "model": "aurora",
        "channel": "web_price_inquiry",
        "campaign": "double11",
        "broker_code": "BRK42",
        "utm": {"utm_source": "autohome", "utm_medium": "cpc"},
        "consent": {"share_with_dealer": True},
    }
    body.update(overrides)
    return body


def post(client: Client, path: str, body: Any = None, **extra: Any):
    return client.post(path, data=json.dumps(body or {}), content_type="application/json", **extra)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# ---- POST /api/v1/leads ---------------------------------------------------------------------------------


def test_an_inquiry_creates_a_lead_201(frozen, model, dealer):
    response = post(Client(), "/api/v1/leads", inquiry())

    assert response.status_code == 201
    body = response.json()
    lead = Lead.objects.get()
    assert body == {"id": lead.public_id, "status": "new", "dealer": dealer.public_id}
    touch = Touchpoint.objects.get()
    assert (touch.campaign, touch.broker_code, touch.utm) == (
        "double11",
        "BRK42",
        {"utm_source": "autohome", "utm_medium": "cpc"},
    )


def test_a_second_inquiry_joins_the_open_lead_200(frozen, model, dealer):
    first = post(Client(), "/api/v1/leads", inquiry()).json()
    response = post(Client(), "/api/v1/leads", inquiry(channel="live_stream", phone="+86 138 0013 8000"))

    assert response.status_code == 200
    assert response.json() == {"id": first["id"], "status": "new", "dealer": dealer.public_id}
    assert Lead.objects.count() == 1
    assert Touchpoint.objects.count() == 2


def test_without_consent_the_answer_names_no_dealer(frozen, model, dealer):
    response = post(Client(), "/api/v1/leads", inquiry(consent={"share_with_dealer": False}))

    assert response.status_code == 201
    assert response.json() == {"id": Lead.objects.get().public_id, "status": "oem_queue"}


def test_the_chosen_dealer_is_used(frozen, model, dealer, second_dealer):
    response = post(Client(), "/api/v1/leads", inquiry(dealer=second_dealer.public_id))

    assert response.json()["dealer"] == second_dealer.public_id


@pytest.mark.parametrize(
    ("override", "status", "code", "field"),
    [
        ({"city": "atlantis"}, 422, "unknown_city", "city"),
        ({"model": "nope"}, 422, "unknown_model", "model"),
        ({"dealer": "dlr_NOSUCHDEALER000"}, 422, "unknown_dealer", "dealer"),
        ({"channel": "walk_in"}, 422, "invalid_channel", "channel"),
        ({"consent": "yes"}, 422, "invalid", "consent.share_with_dealer"),
        ({"consent": {}}, 422, "invalid", "consent.share_with_dealer"),
        ({"name": None}, 422, "invalid", "name"),
        ({"utm": {"utm_source": {"nested": 1}}}, 422, "invalid", "utm.utm_source"),
    ],
)
def test_bad_inquiries_are_refused_naming_the_field(frozen, model, dealer, override, status, code, field):
    response = post(Client(), "/api/v1/leads", inquiry(**override))

    assert response.status_code == status
    body = response.json()
    assert body["code"] == code
    assert body["details"][0]["field"] == field
    assert Lead.objects.count() == 0
    assert Event.objects.count() == 0


def test_a_bad_phone_is_422_invalid_phone(frozen, model, dealer):
    response = post(Client(), "/api/v1/leads", inquiry(phone="02112345678"))

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_phone"
    assert Lead.objects.count() == 0


def test_inquiries_are_rate_limited_per_phone(frozen, model, dealer):
    client = Client()
    for _ in range(leads_api.INQUIRIES_PER_PHONE_PER_HOUR):
        assert post(client, "/api/v1/leads", inquiry()).status_code in (200, 201)

    response = post(client, "/api/v1/leads", inquiry(phone="+8613800138000"))

    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert int(response["Retry-After"]) > 0
    assert Touchpoint.objects.count() == leads_api.INQUIRIES_PER_PHONE_PER_HOUR
    # Another number from the same address is still welcome.
    assert post(client, "/api/v1/leads", inquiry(phone=OTHER_PHONE)).status_code == 201


def test_inquiries_are_rate_limited_per_ip(frozen, model, dealer, monkeypatch):
    monkeypatch.setattr(leads_api, "INQUIRIES_PER_IP_PER_HOUR", 3)
    client = Client(REMOTE_ADDR="203.0.113.9")
    phones = ["13900000001", "13900000002", "13900000003", "13900000004"]
    statuses = [post(client, "/api/v1/leads", inquiry(phone=phone)).status_code for phone in phones]

    assert statuses == [201, 201, 201, 429]
    assert Lead.objects.count() == 3
    assert (
        post(Client(REMOTE_ADDR="203.0.113.10"), "/api/v1/leads", inquiry(phone=phones[3])).status_code == 201
    )
    clock.advance(timedelta(hours=1))
    assert post(client, "/api/v1/leads", inquiry(phone="13900000005")).status_code == 201


# ---- The dealer workspace -------------------------------------------------------------------------------


def test_the_workspace_needs_a_signed_in_dealer_staff_member(routed_lead, db):
    from forecourt.accounts.models import User

    assert Client().get("/api/v1/workspace/leads").status_code == 401
    consumer = User.objects.get(pk=routed_lead.person_id)
    response = signed_in(consumer).get("/api/v1/workspace/leads")
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")


def test_an_offset_past_any_real_list_is_refused_not_a_500(routed_lead, advisor):
    response = signed_in(advisor).get("/api/v1/workspace/leads?offset=99999999999999999999")
    assert response.status_code == 422
    assert "offset" in response.content.decode()


def test_the_inbox_lists_my_dealers_leads_only_with_masked_phones(
    frozen, model, dealer, other_dealer, advisor
):
    from forecourt.leads.tests.conftest import capture

    mine, _ = capture()
    capture(phone=OTHER_PHONE, city_code="hangzhou")

    response = signed_in(advisor).get("/api/v1/workspace/leads")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    item = body["items"][0]
    assert (item["id"], item["phone"], item["status"], item["sla_state"]) == (
        mine.public_id,
        "138****8000",
        "new",
        "on_time",
    )
    assert item["sla_deadline"] == (MONDAY_10 + timedelta(hours=2)).isoformat()
    assert "13800138000" not in response.content.decode()


def test_the_inbox_filters_overdue_and_status(routed_lead, advisor):
    client = signed_in(advisor)
    assert client.get("/api/v1/workspace/leads?overdue=true").json()["count"] == 0
    with clock.frozen_at(MONDAY_10 + timedelta(hours=3)):
        assert client.get("/api/v1/workspace/leads?overdue=true").json()["count"] == 1
        assert client.get("/api/v1/workspace/leads?status=assigned").json()["count"] == 0
        assert client.get("/api/v1/workspace/leads?status=new").json()["count"] == 1
    assert client.get("/api/v1/workspace/leads?status=bogus").status_code == 422


def test_claim_then_reveal_the_phone_is_audited(routed_lead, advisor):
    client = signed_in(advisor)
    detail = client.get(f"/api/v1/workspace/leads/{routed_lead.public_id}").json()
    assert (detail["phone"], detail["can_reveal_phone"]) == ("138****8000", False)
    assert post(client, f"/api/v1/workspace/leads/{routed_lead.public_id}/phone").status_code == 403

    claimed = post(client, f"/api/v1/workspace/leads/{routed_lead.public_id}/claim")
    assert claimed.status_code == 200
    assert (
        claimed.json()["status"],
        claimed.json()["advisor"]["id"],
        claimed.json()["can_reveal_phone"],
    ) == (
        "assigned",
        advisor.public_id,
        True,
    )
    revealed = post(client, f"/api/v1/workspace/leads/{routed_lead.public_id}/phone")

    assert revealed.json() == {"id": routed_lead.public_id, "phone": "+8613800138000"}
    assert AuditEntry.objects.filter(action="lead.phone_unmasked", actor=advisor).count() == 1


def test_log_a_call_schedule_a_follow_up_and_move_the_pipeline(claimed_lead, advisor):
    client = signed_in(advisor)
    base = f"/api/v1/workspace/leads/{claimed_lead.public_id}"

    call = post(client, f"{base}/contact-attempts", {"outcome": "reached", "note": "约周六试驾"})
    assert call.status_code == 201
    assert call.json()["lead"] == {"id": claimed_lead.public_id, "status": "contacted"}
    follow = post(client, f"{base}/follow-up", {"at": "2026-11-25T15:00:00+08:00"})
    assert follow.json() == {"id": claimed_lead.public_id, "next_follow_up_at": "2026-11-25T15:00:00+08:00"}
    moved = post(client, f"{base}/transition", {"status": "visit_booked"})
    assert moved.json() == {"id": claimed_lead.public_id, "status": "visit_booked"}
    backwards = post(client, f"{base}/transition", {"status": "contacted"})
    assert (backwards.status_code, backwards.json()["code"]) == (409, "transition_not_allowed")

    detail = client.get(base).json()
    assert [a["outcome"] for a in detail["contact_attempts"]] == ["reached"]
    assert detail["routing"][0]["reason_code"] == "city_nearest_balanced"


def test_defeat_request_and_manager_review(claimed_lead, advisor, manager):
    base = f"/api/v1/workspace/leads/{claimed_lead.public_id}"
    early = post(
        signed_in(advisor), f"{base}/defeat-request", {"reason": "unreachable", "evidence": EVIDENCE}
    )
    assert (early.status_code, early.json()["code"]) == (409, "no_contact_attempt")
    contact_attempt_log(lead=claimed_lead, actor=advisor, outcome="no_answer")

    requested = post(
        signed_in(advisor), f"{base}/defeat-request", {"reason": "unreachable", "evidence": EVIDENCE}
    )
    assert requested.status_code == 201
    assert requested.json()["decision"] == "pending"
    assert post(signed_in(advisor), f"{base}/defeat-review", {"decision": "approve"}).status_code == 403

    reviewed = post(signed_in(manager), f"{base}/defeat-review", {"decision": "approve", "note": "ok"})
    assert reviewed.status_code == 200
    assert reviewed.json()["decision"] == "approved"
    assert reviewed.json()["lead"] == {"id": claimed_lead.public_id, "status": "defeated"}


def test_the_manager_assigns_to_an_advisor_of_the_dealer(routed_lead, manager, advisor, other_advisor):
    base = f"/api/v1/workspace/leads/{routed_lead.public_id}/assign"
    client = signed_in(manager)

    unknown = post(client, base, {"advisor": "usr_NOBODY000000000"})
    assert (unknown.status_code, unknown.json()["details"][0]["field"]) == (422, "advisor")
    foreign = post(client, base, {"advisor": other_advisor.public_id})
    assert foreign.status_code == 422
    response = post(client, base, {"advisor": advisor.public_id})

    assert response.json() == {
        "id": routed_lead.public_id,
        "status": "assigned",
        "advisor": advisor.public_id,
    }
    assert post(signed_in(advisor), base, {"advisor": advisor.public_id}).status_code == 403


def test_staff_enter_a_walk_in_which_is_theirs_claimed_and_contacted(frozen, model, dealer, advisor):
    response = post(
        signed_in(advisor),
        "/api/v1/workspace/leads",
        {
            "name": "王芳",
            "phone": OTHER_PHONE,
            "model": "aurora",
            "channel": "walk_in",
            "consent": {"share_with_dealer": True},
            "note": "看了白色",
        },
    )

    assert response.status_code == 201
    lead = Lead.objects.get(public_id=response.json()["id"])
    assert (lead.dealer, lead.advisor, lead.status, lead.first_channel) == (
        dealer,
        advisor,
        "contacted",
        "walk_in",
    )
    assert ContactAttempt.objects.get(lead=lead).outcome == "met_in_person"


def test_a_walk_in_of_another_dealers_lead_is_added_there_and_refused_here(
    frozen, model, dealer, other_dealer, other_advisor
):
    from forecourt.leads.tests.conftest import capture

    theirs, _ = capture()
    response = post(
        signed_in(other_advisor),
        "/api/v1/workspace/leads",
        {
            "name": "张伟",
            "phone": PHONE,
            "model": "aurora",
            "channel": "walk_in",
            "consent": {"share_with_dealer": True},
        },
    )

    assert (response.status_code, response.json()["code"]) == (409, "lead_held_elsewhere")
    theirs.refresh_from_db()
    assert (theirs.dealer, theirs.touch_count, theirs.last_channel) == (dealer, 2, "walk_in")


def test_the_kpi_endpoint_reports_my_dealer(claimed_lead, advisor, manager):
    contact_attempt_log(lead=claimed_lead, actor=advisor, outcome="reached")

    response = signed_in(manager).get("/api/v1/workspace/kpi?from=2026-11-23&to=2026-11-23")

    assert response.status_code == 200
    body = response.json()
    assert body["dealer"]["leads_received"] == 1
    assert body["dealer"]["contacted_within_sla_pct"] == 100.0
    assert body["dealer"]["median_minutes_to_first_contact"] == 0.0
    assert body["advisors"][0]["key"] == advisor.public_id
    assert body["daily"] == [{"date": "2026-11-23", "received": 1, "contacted_within_sla": 1, "visited": 0}]
    bad = signed_in(manager).get("/api/v1/workspace/kpi?from=2026-11-24&to=2026-11-23")
    assert (bad.status_code, bad.json()["details"][0]["field"]) == (422, "from")


# ---- Tenancy: another dealer's lead is a 404 on every endpoint, and nothing happens ---------------------

TENANT_CALLS = [
    ("get", "", None),
    ("post", "/claim", None),
    ("post", "/phone", None),
    ("post", "/contact-attempts", {"outcome": "reached", "note": "x"}),
    ("post", "/follow-up", {"at": "2026-12-01T10:00:00+08:00"}),
    ("post", "/transition", {"status": "visit_booked"}),
    ("post", "/defeat-request", {"reason": "unreachable", "evidence": EVIDENCE}),
    ("post", "/defeat-review", {"decision": "approve"}),
    ("post", "/assign", {"advisor": "usr_X"}),
]


@pytest.mark.parametrize(("method", "suffix", "body"), TENANT_CALLS)
@pytest.mark.parametrize("intruder", ["other_advisor", "other_manager"])
def test_another_dealers_lead_is_not_found_and_nothing_changes(
    request, claimed_lead, advisor, method, suffix, body, intruder
):
    contact_attempt_log(lead=claimed_lead, actor=advisor, outcome="reached")
    user = request.getfixturevalue(intruder)
    if suffix == "/assign":
        body = {"advisor": user.public_id}
    before_lead = Lead.objects.filter(pk=claimed_lead.pk).values().get()
    before = (
        Event.objects.count(),
        AuditEntry.objects.count(),
        ContactAttempt.objects.count(),
        DefeatReview.objects.count(),
    )
    client = signed_in(user)
    path = f"/api/v1/workspace/leads/{claimed_lead.public_id}{suffix}"

    response = client.get(path) if method == "get" else post(client, path, body)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert Lead.objects.filter(pk=claimed_lead.pk).values().get() == before_lead
    assert (
        Event.objects.count(),
        AuditEntry.objects.count(),
        ContactAttempt.objects.count(),
        DefeatReview.objects.count(),
    ) == before


def test_an_unknown_lead_id_is_404_like_another_dealers(routed_lead, advisor):
    response = signed_in(advisor).get("/api/v1/workspace/leads/ld_DOESNOTEXIST0000")

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_dealer_staff_never_see_the_oem_queue(frozen, model, dealer, advisor):
    from forecourt.leads.tests.conftest import capture

    queued, _ = capture(share_with_dealer=False)

    assert signed_in(advisor).get("/api/v1/workspace/leads").json()["count"] == 0
    assert signed_in(advisor).get(f"/api/v1/workspace/leads/{queued.public_id}").status_code == 404


# ---- Ops -------------------------------------------------------------------------------------------------


def test_ops_audit_defeats_and_reopen(claimed_lead, advisor, manager, ops):
    from forecourt.leads.services import defeat_review, lead_defeat_request

    contact_attempt_log(lead=claimed_lead, actor=advisor, outcome="no_answer")
    lead_defeat_request(lead=claimed_lead, actor=advisor, reason="unreachable", evidence=EVIDENCE)
    defeat_review(lead=claimed_lead, actor=manager, approve=True)

    audit = signed_in(ops).get("/api/v1/ops/leads/defeats?from=2026-11-01&to=2026-11-30")
    assert audit.status_code == 200
    item = audit.json()["items"][0]
    assert (item["lead"]["id"], item["decision"], item["contact_attempts"], item["reason"]) == (
        claimed_lead.public_id,
        "approved",
        1,
        "unreachable",
    )
    assert signed_in(manager).get("/api/v1/ops/leads/defeats").status_code == 403
    assert (
        post(
            signed_in(manager), f"/api/v1/ops/leads/{claimed_lead.public_id}/reopen", {"note": "x"}
        ).status_code
        == 403
    )

    reopened = post(
        signed_in(ops), f"/api/v1/ops/leads/{claimed_lead.public_id}/reopen", {"note": "客户回电"}
    )
    assert reopened.json() == {"id": claimed_lead.public_id, "status": "assigned"}
    assert (
        post(signed_in(ops), "/api/v1/ops/leads/ld_NOPE000000000000/reopen", {"note": "x"}).status_code == 404
    )


def test_ops_see_the_oem_queue(frozen, model, dealer, ops):
    from forecourt.leads.tests.conftest import capture

    queued, _ = capture(share_with_dealer=False)

    items = signed_in(ops).get("/api/v1/ops/leads/queue").json()["items"]
    assert [item["id"] for item in items] == [queued.public_id]
    assert lead_claim is not None
