"""Closing a lead as defeated (战败): reason and evidence, the manager's review, ops' reopen."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from forecourt.accounts.models import User
from forecourt.core import clock
from forecourt.core.audit import audit_record
from forecourt.core.errors import CoreErrorCode, DomainError
from forecourt.leads.access import ensure_manager_of_lead_dealer, ensure_ops, ensure_works_the_lead
from forecourt.leads.errors import LeadErrorCode, field_error
from forecourt.leads.models import (
    OPEN_STATUSES,
    ContactAttempt,
    DefeatDecision,
    DefeatReason,
    DefeatReview,
    Lead,
    LeadReopening,
    LeadStatus,
)
from forecourt.leads.services.transitions import (
    apply_transition,
    held_by,
    lead_event,
    lead_lock,
    transition_guard_failure,
)

EVIDENCE_MIN_LENGTH = 10


def _pending_review(lead: Lead, *, lock: bool = False) -> DefeatReview | None:
    reviews = DefeatReview.objects.filter(lead=lead, decision=DefeatDecision.PENDING)
    return (reviews.select_for_update() if lock else reviews).first()


def lead_defeat_request(*, lead: Lead, actor: User, reason: str, evidence: str) -> DefeatReview:
    """Ask the manager to close the lead as defeated: a listed reason, evidence and a logged attempt."""
    if reason not in DefeatReason.values:
        raise field_error(CoreErrorCode.INVALID, "reason", _("Choose a reason from the list."))
    evidence = evidence.strip() if isinstance(evidence, str) else ""
    if not EVIDENCE_MIN_LENGTH <= len(evidence) <= 2000:
        raise field_error(
            CoreErrorCode.INVALID,
            "evidence",
            _("Describe the evidence in %(min)d to 2000 characters.") % {"min": EVIDENCE_MIN_LENGTH},
        )
    with transaction.atomic():
        locked = lead_lock(lead)
        ensure_works_the_lead(actor, locked)
        failure = transition_guard_failure(locked, LeadStatus.DEFEATED)
        if failure is not None:
            raise failure
        if _pending_review(locked) is not None:
            raise DomainError(
                LeadErrorCode.DEFEAT_PENDING, _("A defeat request is already waiting for review."), status=409
            )
        dealer = held_by(locked)
        review = DefeatReview.objects.create(
            lead=locked,
            dealer=dealer,
            reason=reason,
            evidence=evidence,
            requested_by=actor,
            requested_at=clock.now(),
        )
        attempts = ContactAttempt.objects.filter(lead=locked, dealer=dealer).count()
        lead_event(
            "lead.defeat_requested",
            locked,
            actor=actor,
            reason=reason,
            review=review.pk,
            contact_attempts=attempts,
        )
    return review


def defeat_review(*, lead: Lead, actor: User, approve: bool, note: str = "") -> DefeatReview:
    """The dealer's manager approves (lead defeated) or rejects (follow-up goes on) a defeat request."""
    note = note.strip()[:500] if isinstance(note, str) else ""
    with transaction.atomic():
        # Lead first, then its review: every service that touches both locks them in this order.
        locked = lead_lock(lead)
        ensure_manager_of_lead_dealer(actor, locked)
        review = _pending_review(locked, lock=True)
        if review is None:
            raise DomainError(
                LeadErrorCode.NO_PENDING_DEFEAT, _("There is no defeat request to review."), status=409
            )
        moment = clock.now()
        if approve:
            apply_transition(locked, LeadStatus.DEFEATED, actor=actor, moment=moment, note=review.reason)
        review.decision = DefeatDecision.APPROVED if approve else DefeatDecision.REJECTED
        review.reviewed_by = actor
        review.reviewed_at = moment
        review.review_note = note
        review.save(update_fields=["decision", "reviewed_by", "reviewed_at", "review_note"])
        lead_event(
            "lead.defeated" if approve else "lead.defeat_rejected",
            locked,
            actor=actor,
            reason=review.reason,
            review=review.pk,
            note=note,
        )
    return review


def lead_reopen(*, lead: Lead, actor: User, note: str) -> Lead:
    """Ops reopen a defeated lead with a note; it goes back to its advisor if they are still at the dealer."""
    ensure_ops(actor)
    note = note.strip() if isinstance(note, str) else ""
    if not 1 <= len(note) <= 500:
        raise field_error(
            CoreErrorCode.INVALID, "note", _("Say why the lead is reopened (up to 500 characters).")
        )
    with transaction.atomic():
        locked = lead_lock(lead)
        if locked.status != LeadStatus.DEFEATED:
            raise DomainError(
                LeadErrorCode.NOT_DEFEATED, _("Only a defeated lead can be reopened."), status=409
            )
        if Lead.objects.filter(
            person_id=locked.person_id, model_id=locked.model_id, status__in=sorted(OPEN_STATUSES)
        ).exists():
            raise DomainError(
                CoreErrorCode.CONFLICT,
                _("The person already has an open lead for this model; follow up that one."),
                status=409,
            )
        moment = clock.now()
        advisor = locked.advisor
        keeps_advisor = advisor is not None and advisor.is_active and advisor.dealer_id == locked.dealer_id
        if not keeps_advisor:
            locked.advisor = None
        # The defeat is history now (its review and events stay); the KPIs count the lead as open again,
        # and it is due for follow-up at once.
        locked.defeated_at = None
        locked.next_follow_up_at = moment
        target = LeadStatus.ASSIGNED if keeps_advisor else LeadStatus.NEW
        try:
            with transaction.atomic():
                apply_transition(
                    locked,
                    target,
                    actor=actor,
                    moment=moment,
                    note=note,
                    also_save=["advisor", "defeated_at", "next_follow_up_at"],
                )
        except IntegrityError:
            raise DomainError(
                CoreErrorCode.CONFLICT,
                _("The person already has an open lead for this model; follow up that one."),
                status=409,
            ) from None
        LeadReopening.objects.create(lead=locked, reopened_by=actor, note=note, at=moment)
        audit_record(
            actor=actor,
            action="lead.reopened",
            object_type="lead",
            object_id=locked.public_id,
            details={"note": note},
        )
        lead_event("lead.reopened", locked, actor=actor, note=note)
    return locked
