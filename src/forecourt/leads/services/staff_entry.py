"""Leads entered by dealer staff: a walk-in or a phone call, taken by the advisor who met the person."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from forecourt.accounts.models import ConsentMethod, Role, User
from forecourt.core.errors import DomainError
from forecourt.leads.access import ensure_staff_of_lead_dealer, is_lead_staff
from forecourt.leads.errors import LeadErrorCode, field_error
from forecourt.leads.models import STAFF_CHANNELS, ContactOutcome, Lead
from forecourt.leads.services.capture import lead_capture
from forecourt.leads.services.followup import contact_attempt_log, lead_claim


def lead_staff_entry_record(
    *,
    actor: User,
    name: str,
    phone: str,
    model_code: str,
    channel: str,
    share_with_dealer: bool,
    note: str = "",
) -> tuple[Lead, bool]:
    """Record a walk-in or phone call at the actor's dealer: the lead is theirs, claimed and contacted.

    If the person already has an open lead with another dealer the visit is added to it as a
    touchpoint and the call fails with `lead_held_elsewhere` (that dealer keeps the lead).
    """
    if not is_lead_staff(actor):
        raise DomainError(
            LeadErrorCode.NOT_DEALER_STAFF, _("Only a dealer's sales staff enter leads."), status=403
        )
    if channel not in STAFF_CHANNELS:
        raise field_error(LeadErrorCode.INVALID_CHANNEL, "channel", _("Choose walk-in or phone call."))
    dealer = actor.dealer
    if dealer is None:
        raise DomainError(
            LeadErrorCode.NOT_DEALER_STAFF, _("Only a dealer's sales staff enter leads."), status=403
        )
    with transaction.atomic():
        lead, created = lead_capture(
            name=name,
            phone=phone,
            city_code=dealer.city.code,
            model_code=model_code,
            channel=channel,
            dealer_public_id=dealer.public_id,
            share_with_dealer=share_with_dealer,
            consent_method=ConsentMethod.IN_STORE,
            actor=actor,
        )
        lead.refresh_from_db()
        held_elsewhere = lead.dealer_id is not None and lead.dealer_id != actor.dealer_id
        # Without consent to share the lead stays with the OEM, and the dealer does not see it either.
        if lead.dealer_id == actor.dealer_id:
            ensure_staff_of_lead_dealer(actor, lead)
            if lead.advisor_id is None:
                lead = lead_claim(lead=lead, actor=actor)
            if lead.advisor_id == actor.pk or actor.role == Role.DEALER_MANAGER:
                outcome = ContactOutcome.MET_IN_PERSON if channel == "walk_in" else ContactOutcome.REACHED
                contact_attempt_log(lead=lead, actor=actor, outcome=outcome, note=note[:500] if note else "")
                lead.refresh_from_db()
    if held_elsewhere:
        # Raised after commit: the visit is kept as a touchpoint of the other dealer's lead.
        raise DomainError(
            LeadErrorCode.LEAD_HELD_ELSEWHERE,
            _("This person already has an open lead with another dealer; the visit was added to it."),
            status=409,
        )
    return lead, created
