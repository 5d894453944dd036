"""Reads of leads. Every staff-facing query goes through `leads_for_staff`, the one tenant-scoping helper."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from forecourt.accounts.models import User
from forecourt.leads.access import LEAD_STAFF_ROLES, is_lead_staff, is_ops, lead_not_found
from forecourt.leads.models import (
    AWAITING_FIRST_CONTACT,
    OPEN_STATUSES,
    DefeatDecision,
    DefeatReview,
    Lead,
    LeadStatus,
    SlaPolicy,
)
from forecourt.leads.referral_mark import ReferralMark as ReferralMark  # read by the booking pages
from forecourt.leads.referral_mark import referral_mark_read as referral_mark_read


def sla_policy_current() -> SlaPolicy:
    """The SLA policy in force: the first stored row, or the defaults when none has been saved."""
    return SlaPolicy.objects.order_by("pk").first() or SlaPolicy()


def leads_for_staff(user: Any) -> QuerySet[Lead]:
    """The leads a staff member may see: their own dealer's for dealer sales staff, all for ops, else none.

    Leads in the OEM queue have no dealer, so no dealer's staff ever see them.
    """
    leads = Lead.objects.select_related("dealer", "city", "model", "advisor", "person")
    if is_ops(user):
        return leads
    if is_lead_staff(user):
        return leads.filter(dealer_id=user.dealer_id)
    return leads.none()


def lead_get_for_staff(*, user: Any, public_id: str) -> Lead:
    """One lead the user may see, by public id; another dealer's lead is NotFound (404) like a missing one."""
    lead = leads_for_staff(user).filter(public_id=public_id).first() if isinstance(public_id, str) else None
    if lead is None:
        raise lead_not_found()
    return lead


def overdue_filter(now: datetime) -> Q:
    """Leads past their first-contact deadline with nobody having reached out yet."""
    return Q(
        status__in=sorted(AWAITING_FIRST_CONTACT),
        first_contacted_at__isnull=True,
        dealer__isnull=False,
        sla_deadline__lte=now,
    )


def lead_list_for_staff(
    *,
    user: Any,
    now: datetime,
    status: str | None = None,
    overdue: bool | None = None,
    mine: bool = False,
    search: str = "",
) -> QuerySet[Lead]:
    """The inbox: the user's leads, filtered; overdue ones by deadline, otherwise newest first."""
    leads = leads_for_staff(user)
    if status:
        leads = leads.filter(status=status)
    if overdue is True:
        leads = leads.filter(overdue_filter(now))
    elif overdue is False:
        leads = leads.exclude(overdue_filter(now))
    if mine:
        leads = leads.filter(advisor_id=user.pk)
    if search:
        leads = leads.filter(Q(name__icontains=search) | Q(public_id__iexact=search))
    return (
        leads.order_by("sla_deadline", "-created_at", "-id")
        if overdue
        else leads.order_by("-created_at", "-id")
    )


def dealer_advisors(*, dealer_id: int) -> list[User]:
    """Sales staff of a dealer who can be given leads."""
    return list(
        User.objects.filter(dealer_id=dealer_id, role__in=sorted(LEAD_STAFF_ROLES), is_active=True).order_by(
            "display_name", "username"
        )
    )


def defeat_reviews_pending(*, user: Any) -> QuerySet[DefeatReview]:
    """Defeat requests waiting for the user's dealer's manager."""
    if not is_lead_staff(user):
        return DefeatReview.objects.none()
    return (
        DefeatReview.objects.filter(dealer_id=user.dealer_id, decision=DefeatDecision.PENDING)
        .select_related("lead", "requested_by")
        .order_by("requested_at")
    )


def defeat_reviews_for_audit(
    *, start: datetime | None = None, end: datetime | None = None, dealer_public_id: str | None = None
) -> QuerySet[DefeatReview]:
    """Every defeat request for ops to audit, newest first, optionally by period and dealer."""
    reviews = DefeatReview.objects.select_related("lead", "dealer", "requested_by", "reviewed_by")
    if start is not None:
        reviews = reviews.filter(requested_at__gte=start)
    if end is not None:
        reviews = reviews.filter(requested_at__lt=end)
    if dealer_public_id:
        reviews = reviews.filter(dealer__public_id=dealer_public_id)
    return reviews.order_by("-requested_at", "-id")


def oem_queue(*, limit: int = 200) -> QuerySet[Lead]:
    """The OEM's own follow-up queue, oldest first."""
    return (
        Lead.objects.filter(status=LeadStatus.OEM_QUEUE)
        .select_related("city", "model")
        .order_by("created_at")[:limit]
    )


def lead_open_for_person(*, person_id: int, model_id: int) -> Lead | None:
    """The person's open lead for a model, if any (at most one exists: a database constraint)."""
    return Lead.objects.filter(
        person_id=person_id, model_id=model_id, status__in=sorted(OPEN_STATUSES)
    ).first()


def defeat_review_pending_for(*, lead: Lead) -> DefeatReview | None:
    """The defeat request of a lead waiting for the manager, if any."""
    return (
        DefeatReview.objects.filter(lead=lead, decision=DefeatDecision.PENDING)
        .select_related("requested_by")
        .first()
    )
