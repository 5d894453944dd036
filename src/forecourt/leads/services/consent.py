"""When a person withdraws consent to share their details with a dealer, open leads go back to the OEM."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from forecourt.core import clock
from forecourt.leads.models import OPEN_STATUSES, Lead, LeadStatus
from forecourt.leads.services.routing import ReasonCode, RoutingChoice, queue_locked
from forecourt.leads.services.transitions import lead_lock


def leads_unshare_for_person(*, person_id: int) -> int:
    """Move every open dealer lead of the person to the OEM queue (PIPL: sharing ends with the consent)."""
    moved = 0
    pks = list(
        Lead.objects.filter(person_id=person_id, status__in=sorted(OPEN_STATUSES), dealer__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in pks:
        with transaction.atomic():
            lead = lead_lock(pk)
            if lead.dealer_id is None or lead.status == LeadStatus.OEM_QUEUE or not lead.is_open:
                continue
            choice = RoutingChoice(
                dealer=None,
                reason_code=ReasonCode.CONSENT_WITHDRAWN,
                reason=_("The person withdrew consent to share their details with a dealer."),
            )
            queue_locked(lead, choice=choice, moment=clock.now())
            moved += 1
    return moved
