"""Reacting to other apps' events: the pipeline moves with appointments, sharing ends with consent.

appointments (same layer) never calls into a lead's status: it records `appointment.booked`,
`visit.checked_in` and `test_drive.finished` with the lead's public id in the payload (`lead_id`),
and these subscribers move the lead forward. Each is idempotent: a lead already at or past the step
(or closed, or in the OEM queue) is left as it is.
"""

from __future__ import annotations

import logging

from forecourt.accounts.models import ConsentPurpose, User
from forecourt.core.errors import DomainError
from forecourt.core.events import subscriber
from forecourt.core.logging import log_context
from forecourt.core.models import Event
from forecourt.leads.errors import LeadErrorCode
from forecourt.leads.models import ALLOWED_TRANSITIONS, PIPELINE_ORDER, Lead, LeadStatus
from forecourt.leads.services.consent import leads_unshare_for_person
from forecourt.leads.services.transitions import lead_transition

logger = logging.getLogger(__name__)

STEP_FOR_EVENT: dict[str, str] = {
    "appointment.booked": LeadStatus.VISIT_BOOKED,
    "visit.checked_in": LeadStatus.VISITED,
    "test_drive.finished": LeadStatus.TEST_DRIVEN,
}


def lead_step_forward(*, lead_public_id: str, step: str, cause: str) -> bool:
    """Move the lead to `step` if that is a move forward the transition table allows; False otherwise."""
    lead = Lead.objects.filter(public_id=lead_public_id).first()
    if lead is None:
        logger.warning("event names an unknown lead", extra=log_context(lead=lead_public_id, cause=cause))
        return False
    if lead.status not in PIPELINE_ORDER or PIPELINE_ORDER.index(lead.status) >= PIPELINE_ORDER.index(step):
        return False
    if step not in ALLOWED_TRANSITIONS.get(lead.status, frozenset()):
        return False
    try:
        lead_transition(lead=lead, to_status=step, note=cause)
    except DomainError as exc:
        # The lead moved on between the read and the lock (the transition re-checks under the lock).
        if exc.code != LeadErrorCode.TRANSITION_NOT_ALLOWED:
            raise
        return False
    return True


def _handle(event: Event) -> None:
    lead_public_id = (event.payload or {}).get("lead_id")
    if not isinstance(lead_public_id, str) or not lead_public_id:
        return
    lead_step_forward(lead_public_id=lead_public_id, step=STEP_FOR_EVENT[event.name], cause=event.name)


@subscriber("appointment.booked", name="leads.visit_booked")
def on_appointment_booked(event: Event) -> None:
    _handle(event)


@subscriber("visit.checked_in", name="leads.visited")
def on_visit_checked_in(event: Event) -> None:
    _handle(event)


@subscriber("test_drive.finished", name="leads.test_driven")
def on_test_drive_finished(event: Event) -> None:
    _handle(event)


@subscriber("consent.withdrawn", name="leads.unshare_on_consent_withdrawn")
def on_consent_withdrawn(event: Event) -> None:
    """Consent to share with a dealer withdrawn: the person's open leads go back to the OEM's queue."""
    if (event.payload or {}).get("purpose") != ConsentPurpose.SHARE_WITH_DEALER:
        return
    person = User.objects.filter(public_id=event.subject_id).only("pk").first()
    if person is not None:
        leads_unshare_for_person(person_id=person.pk)
