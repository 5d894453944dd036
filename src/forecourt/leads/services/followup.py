"""Working a lead at the dealer: claim, assign, see the number, log calls, schedule the next follow-up."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from forecourt.accounts.models import User
from forecourt.core import clock
from forecourt.core.audit import audit_record
from forecourt.core.errors import CoreErrorCode, DomainError
from forecourt.core.phones import decrypt_phone
from forecourt.leads.access import (
    LEAD_STAFF_ROLES,
    ensure_manager_of_lead_dealer,
    ensure_staff_of_lead_dealer,
    ensure_works_the_lead,
    is_ops,
    lead_may_reveal_phone,
    lead_not_found,
)
from forecourt.leads.errors import LeadErrorCode, field_error
from forecourt.leads.models import (
    AWAITING_FIRST_CONTACT,
    REACHED_OUTCOMES,
    ContactAttempt,
    ContactOutcome,
    Lead,
    LeadStatus,
)
from forecourt.leads.services.transitions import apply_transition, held_by, lead_event, lead_lock


def _ensure_with_dealer(lead: Lead) -> None:
    if not lead.is_open or lead.status == LeadStatus.OEM_QUEUE:
        raise DomainError(LeadErrorCode.LEAD_CLOSED, _("This lead is closed."), status=409)


def _give_to(lead: Lead, advisor: User, *, moment: datetime, actor: Any) -> None:
    lead.advisor = advisor
    if lead.claimed_at is None:
        lead.claimed_at = moment
    lead.updated_at = moment
    fields = ["advisor", "claimed_at", "updated_at"]
    if lead.status == LeadStatus.NEW:
        apply_transition(lead, LeadStatus.ASSIGNED, actor=actor, moment=moment, also_save=fields)
    else:
        lead.save(update_fields=fields)


def lead_claim(*, lead: Lead, actor: User) -> Lead:
    """An advisor (or manager) of the lead's dealer takes the lead; from then on they may see the number."""
    with transaction.atomic():
        locked = lead_lock(lead)
        ensure_staff_of_lead_dealer(actor, locked)
        _ensure_with_dealer(locked)
        if locked.advisor_id == actor.pk:
            return locked
        if locked.advisor_id is not None:
            raise DomainError(
                LeadErrorCode.ALREADY_CLAIMED, _("Another advisor has already claimed this lead."), status=409
            )
        _give_to(locked, actor, moment=clock.now(), actor=actor)
        lead_event("lead.claimed", locked, actor=actor, advisor=actor.public_id)
    return locked


def lead_assign(*, lead: Lead, advisor: User, actor: User) -> Lead:
    """The dealer's manager gives the lead to one of the dealer's sales staff (or moves it to another)."""
    with transaction.atomic():
        locked = lead_lock(lead)
        ensure_manager_of_lead_dealer(actor, locked)
        _ensure_with_dealer(locked)
        if (
            advisor.dealer_id != locked.dealer_id
            or advisor.role not in LEAD_STAFF_ROLES
            or not advisor.is_active
        ):
            raise field_error(
                LeadErrorCode.ADVISOR_NOT_AT_DEALER, "advisor", _("Choose a sales advisor of this dealer.")
            )
        if locked.advisor_id == advisor.pk:
            return locked
        previous = locked.advisor.public_id if locked.advisor else None
        _give_to(locked, advisor, moment=clock.now(), actor=actor)
        lead_event("lead.assigned", locked, actor=actor, advisor=advisor.public_id, previous_advisor=previous)
    return locked


def lead_phone_reveal(*, lead: Lead, actor: User) -> str:
    """The person's full number (E.164) for someone allowed to see it; every unmasking is audited."""
    if not is_ops(actor):
        ensure_staff_of_lead_dealer(actor, lead)
    if not lead_may_reveal_phone(lead=lead, user=actor):
        raise DomainError(LeadErrorCode.NOT_CLAIMED, _("Claim the lead to see the full number."), status=403)
    person = User.objects.only("phone_encrypted").get(pk=lead.person_id)
    if not person.phone_encrypted:
        raise lead_not_found()
    number = decrypt_phone(person.phone_encrypted)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="lead.phone_unmasked",
            object_type="lead",
            object_id=lead.public_id,
            details={"dealer": lead.dealer.public_id if lead.dealer else None},
        )
        lead_event("lead.phone_unmasked", lead, actor=actor, by=actor.public_id)
    return number


def contact_attempt_log(*, lead: Lead, actor: User, outcome: str, note: str = "") -> ContactAttempt:
    """Log a call or meeting; the first one stops the SLA clock, a conversation marks the lead contacted."""
    if outcome not in ContactOutcome.values:
        raise field_error(CoreErrorCode.INVALID, "outcome", _("Unknown call outcome."))
    if not isinstance(note, str) or len(note.strip()) > 500:
        raise field_error(CoreErrorCode.INVALID, "note", _("At most 500 characters."))
    with transaction.atomic():
        locked = lead_lock(lead)
        ensure_works_the_lead(actor, locked)
        _ensure_with_dealer(locked)
        moment = clock.now()
        attempt = ContactAttempt.objects.create(
            lead=locked,
            dealer=held_by(locked),
            staff=actor,
            outcome=outcome,
            note=note.strip(),
            at=moment,
        )
        lead_event("lead.contact_attempt_logged", locked, actor=actor, outcome=outcome, attempt=attempt.pk)
        # The SLA asks the dealer to reach out within the deadline; any logged attempt shows they did,
        # since the person not answering is not the dealer's failure.
        if locked.first_contacted_at is None:
            locked.first_contacted_at = moment
            locked.updated_at = moment
            locked.save(update_fields=["first_contacted_at", "updated_at"])
            within = locked.sla_deadline is None or moment <= locked.sla_deadline
            lead_event("lead.contacted", locked, actor=actor, outcome=outcome, within_sla=within)
        if outcome in REACHED_OUTCOMES and locked.status in AWAITING_FIRST_CONTACT:
            apply_transition(locked, LeadStatus.CONTACTED, actor=actor, moment=moment)
    return attempt


def lead_follow_up_schedule(*, lead: Lead, actor: User, at: datetime, note: str = "") -> Lead:
    """Set when the advisor will get back to the person (shown in the inbox); it must be in the future."""
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise field_error(CoreErrorCode.INVALID, "at", _("Give a date and time."))
    with transaction.atomic():
        locked = lead_lock(lead)
        ensure_works_the_lead(actor, locked)
        _ensure_with_dealer(locked)
        moment = clock.now()
        if at <= moment:
            raise field_error(LeadErrorCode.FOLLOW_UP_IN_PAST, "at", _("Choose a time in the future."))
        locked.next_follow_up_at = at
        locked.updated_at = moment
        locked.save(update_fields=["next_follow_up_at", "updated_at"])
        lead_event("lead.follow_up_scheduled", locked, actor=actor, at=at.isoformat(), note=note[:200])
    return locked
