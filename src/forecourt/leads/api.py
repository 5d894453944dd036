"""The leads API.

- `public_router` at /api/v1/leads: `POST` an inquiry (no sign-in; rate limited per IP and per phone).
- `workspace_router` at /api/v1/workspace/leads and `kpi_router` at /api/v1/workspace/kpi: the dealer
  workspace (dealer sales staff; every lead is looked up through the tenant-scoping selector, so another
  dealer's lead id is a 404 and nothing changes).
- `ops_router` at /api/v1/ops/leads: the OEM's defeat audit, reopening, and its own queue.

References in a body (city, model, dealer, advisor) that do not exist are 422 naming the field: the
request is malformed, not the URL. Unknown ids in the path are 404.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from forecourt.accounts.auth import api_auth, request_user
from forecourt.accounts.models import User
from forecourt.core import clock
from forecourt.core.errors import CoreErrorCode, DomainError
from forecourt.core.middleware import client_ip
from forecourt.core.phones import normalise_mainland_mobile
from forecourt.dealers.models import Dealer
from forecourt.leads import selectors
from forecourt.leads.access import ensure_ops, is_lead_staff, is_ops
from forecourt.leads.errors import LeadErrorCode, field_error
from forecourt.leads.kpi import dealer_kpi_report
from forecourt.leads.models import PUBLIC_CHANNELS, Lead, LeadStatus
from forecourt.leads.presenters import defeat_review_out, lead_detail_out, lead_summary_out
from forecourt.leads.services import (
    contact_attempt_log,
    defeat_review,
    lead_assign,
    lead_capture,
    lead_claim,
    lead_defeat_request,
    lead_follow_up_schedule,
    lead_phone_reveal,
    lead_reopen,
    lead_staff_entry_record,
    lead_transition,
)
from forecourt.leads.throttle import inquiry_throttle_ip, inquiry_throttle_phone

public_router = Router(tags=["leads"])
workspace_router = Router(tags=["dealer workspace"], auth=api_auth)
kpi_router = Router(tags=["dealer workspace"], auth=api_auth)
ops_router = Router(tags=["ops"], auth=api_auth)

KPI_MAX_DAYS = 366


class ConsentIn(Schema):
    share_with_dealer: bool


class LeadIn(Schema):
    name: str = Field(max_length=60)
    phone: str = Field(max_length=32)
    city: str = Field(max_length=40)
    model: str = Field(max_length=40)
    dealer: str | None = Field(default=None, max_length=32)
    channel: str = Field(max_length=30)
    campaign: str = Field(default="", max_length=80)
    source_site: str = Field(default="", max_length=80)
    broker_code: str = Field(default="", max_length=40)
    landing_page: str = Field(default="", max_length=500)
    utm: dict[str, str] | None = None
    consent: ConsentIn


class LeadCreatedOut(Schema):
    id: str
    status: str
    dealer: str | None = None


@public_router.post(
    "",
    response={200: LeadCreatedOut, 201: LeadCreatedOut},
    auth=None,
    exclude_none=True,
    summary="Send an inquiry",
)
def lead_create(request: HttpRequest, payload: LeadIn) -> tuple[int, dict[str, Any]]:
    """201 with a new lead; 200 with the person's open lead for the model when the inquiry joins it."""
    inquiry_throttle_ip(ip=client_ip(request))
    e164 = normalise_mainland_mobile(payload.phone)
    inquiry_throttle_phone(phone_e164=e164)
    if payload.channel not in PUBLIC_CHANNELS:
        raise field_error(
            LeadErrorCode.INVALID_CHANNEL,
            "channel",
            _("Choose one of: %(allowed)s.") % {"allowed": ", ".join(sorted(PUBLIC_CHANNELS))},
        )
    lead, created = lead_capture(
        name=payload.name,
        phone=e164,
        city_code=payload.city,
        model_code=payload.model,
        channel=payload.channel,
        dealer_public_id=payload.dealer,
        campaign=payload.campaign,
        source_site=payload.source_site,
        broker_code=payload.broker_code,
        utm=payload.utm,
        landing_page=payload.landing_page,
        share_with_dealer=payload.consent.share_with_dealer,
        consent_method="api",
    )
    body = {
        "id": lead.public_id,
        "status": lead.status,
        "dealer": lead.dealer.public_id if lead.dealer else None,
    }
    return (201 if created else 200), body


# ---- Dealer workspace ---------------------------------------------------------------------------------


def _workspace_user(request: HttpRequest) -> User:
    user = request_user(request)
    if not (is_lead_staff(user) or is_ops(user)):
        raise DomainError(
            CoreErrorCode.FORBIDDEN, _("The dealer workspace is for dealer sales staff."), status=403
        )
    return user


def _lead(request: HttpRequest, lead_id: str) -> tuple[User, Lead]:
    user = _workspace_user(request)
    return user, selectors.lead_get_for_staff(user=user, public_id=lead_id)


class LeadListQuery(Schema):
    status: LeadStatus | None = None
    overdue: bool | None = None
    mine: bool = False
    search: str = Field(default="", max_length=60)
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)


@workspace_router.get("", summary="My dealer's leads")
def leads_list(request: HttpRequest, filters: Query[LeadListQuery]) -> dict[str, Any]:
    user = _workspace_user(request)
    now = clock.now()
    leads = selectors.lead_list_for_staff(
        user=user,
        now=now,
        status=filters.status,
        overdue=filters.overdue,
        mine=filters.mine,
        search=filters.search,
    )
    page = list(leads[filters.offset : filters.offset + filters.limit])
    return {"count": leads.count(), "items": [lead_summary_out(lead, now=now) for lead in page]}


class StaffLeadIn(Schema):
    name: str = Field(max_length=60)
    phone: str = Field(max_length=32)
    model: str = Field(max_length=40)
    channel: Literal["walk_in", "phone_call"]
    note: str = Field(default="", max_length=500)
    consent: ConsentIn


@workspace_router.post("", response={200: dict, 201: dict}, summary="Enter a walk-in or phone call")
def lead_enter(request: HttpRequest, payload: StaffLeadIn) -> tuple[int, dict[str, Any]]:
    user = _workspace_user(request)
    lead, created = lead_staff_entry_record(
        actor=user,
        name=payload.name,
        phone=payload.phone,
        model_code=payload.model,
        channel=payload.channel,
        share_with_dealer=payload.consent.share_with_dealer,
        note=payload.note,
    )
    return (201 if created else 200), {"id": lead.public_id, "status": lead.status}


@workspace_router.get("/{lead_id}", summary="One lead")
def lead_detail(request: HttpRequest, lead_id: str) -> dict[str, Any]:
    user, lead = _lead(request, lead_id)
    return lead_detail_out(lead, user=user, now=clock.now())


@workspace_router.post("/{lead_id}/claim", summary="Claim the lead")
def lead_claim_endpoint(request: HttpRequest, lead_id: str) -> dict[str, Any]:
    user, lead = _lead(request, lead_id)
    lead = lead_claim(lead=lead, actor=user)
    return lead_detail_out(
        selectors.lead_get_for_staff(user=user, public_id=lead.public_id), user=user, now=clock.now()
    )


@workspace_router.post("/{lead_id}/phone", summary="Unmask the phone number (audited)")
def lead_phone(request: HttpRequest, lead_id: str) -> dict[str, Any]:
    user, lead = _lead(request, lead_id)
    return {"id": lead.public_id, "phone": lead_phone_reveal(lead=lead, actor=user)}


class ContactAttemptIn(Schema):
    outcome: str = Field(max_length=30)
    note: str = Field(default="", max_length=500)


@workspace_router.post("/{lead_id}/contact-attempts", response={201: dict}, summary="Log a call")
def lead_contact_attempt(request: HttpRequest, lead_id: str, payload: ContactAttemptIn) -> tuple[int, dict]:
    user, lead = _lead(request, lead_id)
    attempt = contact_attempt_log(lead=lead, actor=user, outcome=payload.outcome, note=payload.note)
    lead.refresh_from_db()
    return 201, {
        "id": attempt.pk,
        "outcome": attempt.outcome,
        "note": attempt.note,
        "at": attempt.at.astimezone(clock.SHANGHAI).isoformat(),
        "lead": {"id": lead.public_id, "status": lead.status},
    }


class FollowUpIn(Schema):
    at: datetime
    note: str = Field(default="", max_length=200)


@workspace_router.post("/{lead_id}/follow-up", summary="Schedule the next follow-up")
def lead_follow_up(request: HttpRequest, lead_id: str, payload: FollowUpIn) -> dict[str, Any]:
    user, lead = _lead(request, lead_id)
    at = payload.at if payload.at.tzinfo else payload.at.replace(tzinfo=clock.SHANGHAI)
    lead = lead_follow_up_schedule(lead=lead, actor=user, at=at, note=payload.note)
    scheduled = lead.next_follow_up_at or at
    return {
        "id": lead.public_id,
        "next_follow_up_at": scheduled.astimezone(clock.SHANGHAI).isoformat(),
    }


class TransitionIn(Schema):
    status: str = Field(max_length=20)
    note: str = Field(default="", max_length=500)


@workspace_router.post("/{lead_id}/transition", summary="Move the lead along the pipeline")
def lead_move(request: HttpRequest, lead_id: str, payload: TransitionIn) -> dict[str, Any]:
    user, lead = _lead(request, lead_id)
    lead = lead_transition(lead=lead, to_status=payload.status, actor=user, note=payload.note)
    return {"id": lead.public_id, "status": lead.status}


class DefeatRequestIn(Schema):
    reason: str = Field(max_length=30)
    evidence: str = Field(max_length=2000)


@workspace_router.post("/{lead_id}/defeat-request", response={201: dict}, summary="Ask to close as defeated")
def lead_defeat(request: HttpRequest, lead_id: str, payload: DefeatRequestIn) -> tuple[int, dict[str, Any]]:
    user, lead = _lead(request, lead_id)
    review = lead_defeat_request(lead=lead, actor=user, reason=payload.reason, evidence=payload.evidence)
    return 201, defeat_review_out(review)


class DefeatReviewIn(Schema):
    decision: Literal["approve", "reject"]
    note: str = Field(default="", max_length=500)


@workspace_router.post("/{lead_id}/defeat-review", summary="Approve or reject a defeat (manager)")
def lead_defeat_review(request: HttpRequest, lead_id: str, payload: DefeatReviewIn) -> dict[str, Any]:
    user, lead = _lead(request, lead_id)
    review = defeat_review(lead=lead, actor=user, approve=payload.decision == "approve", note=payload.note)
    lead.refresh_from_db()
    return {**defeat_review_out(review), "lead": {"id": lead.public_id, "status": lead.status}}


class AssignIn(Schema):
    advisor: str = Field(max_length=32)


@workspace_router.post("/{lead_id}/assign", summary="Give the lead to an advisor (manager)")
def lead_assign_endpoint(request: HttpRequest, lead_id: str, payload: AssignIn) -> dict[str, Any]:
    user, lead = _lead(request, lead_id)
    advisor = User.objects.filter(public_id=payload.advisor).first()
    if advisor is None:
        raise field_error(
            LeadErrorCode.ADVISOR_NOT_AT_DEALER, "advisor", _("Choose a sales advisor of this dealer.")
        )
    lead = lead_assign(lead=lead, advisor=advisor, actor=user)
    return {"id": lead.public_id, "status": lead.status, "advisor": advisor.public_id}


class KpiQuery(Schema):
    start: date | None = Field(default=None, alias="from")
    end: date | None = Field(default=None, alias="to")
    dealer: str | None = Field(default=None, max_length=32)


def kpi_period(start: date | None, end: date | None) -> tuple[date, date]:
    """The period asked for, by default the last 30 days up to today (Shanghai); both days included."""
    today = clock.local_now().date()
    end = end or today
    start = start or end - timedelta(days=29)
    if start > end:
        raise field_error(CoreErrorCode.INVALID, "from", _("The period must start before it ends."))
    if (end - start).days >= KPI_MAX_DAYS:
        raise field_error(CoreErrorCode.INVALID, "from", _("Choose at most a year."))
    return start, end


def kpi_dealer(user: User, dealer_public_id: str | None) -> Dealer:
    """The dealer whose KPIs the user may see: their own; ops name one."""
    if is_ops(user):
        dealer = Dealer.objects.filter(public_id=dealer_public_id).first() if dealer_public_id else None
        if dealer is None:
            raise field_error(CoreErrorCode.INVALID, "dealer", _("Choose a dealer."))
        return dealer
    if user.dealer is None:
        raise DomainError(
            CoreErrorCode.FORBIDDEN, _("The dealer workspace is for dealer sales staff."), status=403
        )
    return user.dealer


@kpi_router.get("", summary="KPIs of my dealer and its advisors for a period")
def kpi(request: HttpRequest, query: Query[KpiQuery]) -> dict[str, Any]:
    user = _workspace_user(request)
    start, end = kpi_period(query.start, query.end)
    dealer = kpi_dealer(user, query.dealer)
    return dealer_kpi_report(dealer=dealer, start=start, end=end, now=clock.now()).as_dict()


# ---- OEM operations ------------------------------------------------------------------------------------


def _ops_user(request: HttpRequest) -> User:
    user = request_user(request)
    ensure_ops(user)
    return user


class DefeatAuditQuery(Schema):
    start: date | None = Field(default=None, alias="from")
    end: date | None = Field(default=None, alias="to")
    dealer: str | None = Field(default=None, max_length=32)
    limit: int = Field(default=100, ge=1, le=500)


@ops_router.get("/defeats", summary="Defeat requests and reviews, for audit")
def defeats_audit(request: HttpRequest, query: Query[DefeatAuditQuery]) -> dict[str, Any]:
    _ops_user(request)
    start, end = kpi_period(query.start, query.end)
    lower = datetime.combine(start, datetime.min.time(), tzinfo=clock.SHANGHAI)
    upper = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=clock.SHANGHAI)
    reviews = selectors.defeat_reviews_for_audit(start=lower, end=upper, dealer_public_id=query.dealer)
    return {
        "count": reviews.count(),
        "items": [defeat_review_out(review, audit=True) for review in reviews[: query.limit]],
    }


class ReopenIn(Schema):
    note: str = Field(max_length=500)


@ops_router.post("/{lead_id}/reopen", summary="Reopen a defeated lead with a note")
def lead_reopen_endpoint(request: HttpRequest, lead_id: str, payload: ReopenIn) -> dict[str, Any]:
    user = _ops_user(request)
    lead = selectors.lead_get_for_staff(user=user, public_id=lead_id)
    lead = lead_reopen(lead=lead, actor=user, note=payload.note)
    return {"id": lead.public_id, "status": lead.status}


@ops_router.get("/queue", summary="The OEM's own follow-up queue")
def oem_queue(request: HttpRequest) -> dict[str, Any]:
    _ops_user(request)
    now = clock.now()
    return {"items": [lead_summary_out(lead, now=now) for lead in selectors.oem_queue()]}
