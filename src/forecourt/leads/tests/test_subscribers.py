"""Appointment events move the pipeline: booked → visit booked, checked in → visited, driven → test driven."""

from __future__ import annotations

import pytest
from django.db import transaction

from forecourt.core.events import event_record
from forecourt.core.models import EventDelivery
from forecourt.leads.models import Lead, LeadStatus
from forecourt.leads.subscribers import lead_step_forward

pytestmark = pytest.mark.django_db


def _appointment_event(name: str, lead: Lead, capture_callbacks) -> None:
    with capture_callbacks(execute=True), transaction.atomic():
        event_record(
            name,
            subject_type="appointment",
            subject_id="apt_X",
            dealer_id=lead.dealer_id,
            payload={"lead_id": lead.public_id, "kind": "test_drive"},
        )


def test_booking_checking_in_and_driving_move_the_lead(routed_lead, django_capture_on_commit_callbacks):
    _appointment_event("appointment.booked", routed_lead, django_capture_on_commit_callbacks)
    assert Lead.objects.get(pk=routed_lead.pk).status == LeadStatus.VISIT_BOOKED
    _appointment_event("visit.checked_in", routed_lead, django_capture_on_commit_callbacks)
    assert Lead.objects.get(pk=routed_lead.pk).status == LeadStatus.VISITED
    _appointment_event("test_drive.finished", routed_lead, django_capture_on_commit_callbacks)

    lead = Lead.objects.get(pk=routed_lead.pk)
    assert lead.status == LeadStatus.TEST_DRIVEN
    assert (
        lead.visit_booked_at is not None and lead.visited_at is not None and lead.test_driven_at is not None
    )
    assert EventDelivery.objects.filter(subscriber__startswith="leads.", status="done").count() == 3


def test_a_late_booking_event_never_moves_a_lead_backwards(routed_lead, django_capture_on_commit_callbacks):
    Lead.objects.filter(pk=routed_lead.pk).update(status=LeadStatus.TEST_DRIVEN)

    _appointment_event("appointment.booked", routed_lead, django_capture_on_commit_callbacks)

    assert Lead.objects.get(pk=routed_lead.pk).status == LeadStatus.TEST_DRIVEN
    assert EventDelivery.objects.get(subscriber="leads.visit_booked").status == "done"


def test_unknown_or_queued_leads_are_left_alone(frozen, model, dealer):
    from forecourt.leads.tests.conftest import capture

    queued, _ = capture(share_with_dealer=False)

    assert (
        lead_step_forward(lead_public_id="ld_NOPE", step=LeadStatus.VISITED, cause="visit.checked_in")
        is False
    )
    assert lead_step_forward(lead_public_id=queued.public_id, step=LeadStatus.VISITED, cause="x") is False
    assert Lead.objects.get(pk=queued.pk).status == LeadStatus.OEM_QUEUE


def test_withdrawing_consent_takes_open_leads_away_from_the_dealer(
    claimed_lead, dealer, django_capture_on_commit_callbacks
):
    from forecourt.accounts.models import User
    from forecourt.accounts.services import consent_withdraw
    from forecourt.core.models import Event

    person = User.objects.get(pk=claimed_lead.person_id)
    with django_capture_on_commit_callbacks(execute=True):
        consent_withdraw(user=person, purpose="share_with_dealer", method="web")

    lead = Lead.objects.get(pk=claimed_lead.pk)
    assert (lead.status, lead.dealer, lead.advisor, lead.oem_queue_reason) == (
        LeadStatus.OEM_QUEUE,
        None,
        None,
        "consent_withdrawn",
    )
    assert Event.objects.filter(name="lead.sent_to_oem_queue", subject_id=lead.public_id).count() == 1
