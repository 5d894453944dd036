"""The one guarded status change, and the helpers every lead service shares (lock, event)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.events import event_record
from forecourt.dealers.models import Dealer
from forecourt.leads.access import ensure_works_the_lead, is_ops
from forecourt.leads.errors import LeadErrorCode, field_error
from forecourt.leads.models import (
    ALLOWED_TRANSITIONS,
    MANUAL_TARGETS,
    MILESTONE_FIELDS,
    REACHED_OUTCOMES,
    ContactAttempt,
    Lead,
    LeadStatus,
)


def lead_lock(lead: Lead | int) -> Lead:
    """Re-read the lead under a row lock (inside the caller's transaction); guards are checked after this."""
    pk = lead if isinstance(lead, int) else lead.pk
    return Lead.objects.select_for_update().get(pk=pk)


def held_by(lead: Lead) -> Dealer:
    """The dealer holding the lead; a lead without one (in the OEM queue) cannot be worked by a dealer."""
    dealer = lead.dealer
    if dealer is None:
        raise DomainError(LeadErrorCode.NO_DEALER, _("This lead is with the OEM, not a dealer."), status=409)
    return dealer


def lead_event(name: str, lead: Lead, *, actor: Any = None, **payload: Any) -> None:
    """Record a lead event, filed under the lead's current dealer for the tenant feed."""
    event_record(
        name,
        subject_type="lead",
        subject_id=lead.public_id,
        actor=actor,
        dealer_id=lead.dealer_id,
        payload={"lead_id": lead.public_id, "status": lead.status, **payload},
    )


def transition_guard_failure(lead: Lead, to_status: str) -> DomainError | None:
    """Why `lead` may not move to `to_status` now, or None when it may (table first, then the guards)."""
    if to_status not in ALLOWED_TRANSITIONS.get(lead.status, frozenset()):
        return DomainError(
            LeadErrorCode.TRANSITION_NOT_ALLOWED,
            _("A lead cannot move from %(from)s to %(to)s.")
            % {"from": LeadStatus(lead.status).label, "to": LeadStatus(to_status).label},
            status=409,
            details={"from": lead.status, "to": to_status},
        )
    dealer_id = lead.dealer_id
    # A queued lead has no dealer and a routed one has: only routing moves both together.
    if to_status == LeadStatus.OEM_QUEUE and dealer_id is not None:
        return DomainError(
            LeadErrorCode.TRANSITION_NOT_ALLOWED, _("Only routing sends a lead to the OEM queue."), status=409
        )
    if to_status != LeadStatus.OEM_QUEUE and dealer_id is None:
        return DomainError(LeadErrorCode.NO_DEALER, _("Route the lead to a dealer first."), status=409)
    if to_status == LeadStatus.ASSIGNED and lead.advisor_id is None:
        return DomainError(LeadErrorCode.NOT_CLAIMED, _("An assigned lead needs an advisor."), status=409)
    if (
        to_status == LeadStatus.CONTACTED
        and not ContactAttempt.objects.filter(lead=lead, outcome__in=sorted(REACHED_OUTCOMES)).exists()
    ):
        return DomainError(
            LeadErrorCode.NO_CONTACT_ATTEMPT,
            _("Log the call in which you reached the person first."),
            status=409,
        )
    # Defeat needs evidence that someone tried: at least one logged contact attempt by this dealer.
    if (
        to_status == LeadStatus.DEFEATED
        and not ContactAttempt.objects.filter(lead=lead, dealer_id=dealer_id or 0).exists()
    ):
        return DomainError(
            LeadErrorCode.NO_CONTACT_ATTEMPT,
            _("A lead can only be closed as defeated after at least one logged contact attempt."),
            status=409,
        )
    return None


def apply_transition(
    lead: Lead,
    to_status: str,
    *,
    actor: Any = None,
    moment: datetime | None = None,
    note: str = "",
    also_save: Sequence[str] = (),
) -> Lead:
    """Change the status of a lead that the caller has locked, after re-checking the table and guards.

    `also_save` names fields the caller changed in memory that must be written in the same UPDATE
    (routing moves the dealer and the status together, which a check constraint requires).
    """
    failure = transition_guard_failure(lead, to_status)
    if failure is not None:
        raise failure
    moment = moment or clock.now()
    from_status = lead.status
    lead.status = to_status
    lead.updated_at = moment
    fields = ["status", "updated_at", *also_save]
    milestone = MILESTONE_FIELDS.get(to_status)
    if milestone and getattr(lead, milestone) is None:
        setattr(lead, milestone, moment)
        fields.append(milestone)
    lead.save(update_fields=fields)
    lead_event(
        "lead.status_changed", lead, actor=actor, from_status=from_status, to_status=to_status, note=note
    )
    return lead


def lead_transition(*, lead: Lead, to_status: str, actor: Any = None, note: str = "") -> Lead:
    """Move a lead along its pipeline under a row lock; people may only use the pipeline buttons' targets."""
    if to_status not in LeadStatus.values:
        raise field_error(LeadErrorCode.TRANSITION_NOT_ALLOWED, "status", _("Unknown status."))
    with transaction.atomic():
        locked = lead_lock(lead)
        # People (staff, and ops too) only press the pipeline buttons; the other moves belong to their own
        # services (claims, calls, defeat reviews, routing, reopening); the system (no actor) uses the table.
        if actor is not None:
            if not is_ops(actor):
                ensure_works_the_lead(actor, locked)
            if to_status not in MANUAL_TARGETS:
                raise DomainError(
                    LeadErrorCode.TRANSITION_NOT_ALLOWED,
                    _("This step is not a pipeline move; use its own action."),
                    status=409,
                    details={"from": locked.status, "to": to_status},
                )
        if locked.status == to_status:
            return locked
        return apply_transition(locked, to_status, actor=actor, note=note[:500])
