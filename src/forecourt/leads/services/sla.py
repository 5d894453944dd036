"""Acting on the first-contact SLA: escalate at the deadline, re-route at twice it, the OEM queue after that.

Deadlines are stored when a lead is routed and evaluated whenever a lead is read (`Lead.sla_state`);
the sweeper only carries out what is already due, so a late sweeper never lets a lead slip. Each
action locks the lead and re-checks that it is still due, which makes the sweeper idempotent and
safe to run from several processes at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from forecourt.accounts.models import Role, User
from forecourt.accounts.services import sms_send
from forecourt.core import clock
from forecourt.core.phones import decrypt_phone
from forecourt.leads.models import AWAITING_FIRST_CONTACT, Lead, RoutingKind, SlaPolicy
from forecourt.leads.selectors import sla_policy_current
from forecourt.leads.services.routing import (
    ReasonCode,
    RoutingChoice,
    dealers_tried,
    queue_locked,
    route_locked,
    routing_choose,
)
from forecourt.leads.services.transitions import held_by, lead_event, lead_lock

SWEEP_BATCH = 500


def _still_awaiting(lead: Lead) -> bool:
    return lead.is_awaiting_first_contact


def _notify_managers(lead: Lead) -> None:
    """Text the dealer's managers that a lead is overdue (after commit: nothing is sent for a rollback)."""
    numbers = [
        decrypt_phone(encrypted)
        for encrypted in User.objects.filter(dealer=lead.dealer, role=Role.DEALER_MANAGER, is_active=True)
        .exclude(phone_encrypted="")
        .values_list("phone_encrypted", flat=True)
    ]
    text = _(
        "Forecourt: lead %(lead)s (%(name)s) has not been contacted within the SLA. Please follow up now."
    ) % {
        "lead": lead.public_id,
        "name": lead.name,
    }
    for number in numbers:
        sms_send(phone=number, text=text, purpose="lead_escalation")


def lead_escalate(*, lead: Lead, now: datetime | None = None) -> bool:
    """Tell the dealer's manager the lead passed its deadline uncontacted; False if not (or no longer) due."""
    moment = now or clock.now()
    with transaction.atomic():
        locked = lead_lock(lead)
        deadline = locked.sla_deadline
        if (
            not _still_awaiting(locked)
            or locked.escalated_at is not None
            or deadline is None
            or moment < deadline
        ):
            return False
        locked.escalated_at = moment
        locked.updated_at = moment
        locked.save(update_fields=["escalated_at", "updated_at"])
        lead_event(
            "lead.escalated",
            locked,
            dealer=held_by(locked).public_id,
            advisor=locked.advisor.public_id if locked.advisor else None,
            sla_deadline=deadline.isoformat(),
        )
        transaction.on_commit(lambda: _notify_managers(locked))
    return True


def lead_reroute_if_due(*, lead: Lead, now: datetime | None = None, policy: SlaPolicy | None = None) -> str:
    """Move an uncontacted lead past twice its deadline to the next dealer, or to the OEM queue after the
    policy's number of re-routes. Returns "rerouted", "oem_queue" or "" when nothing was due."""
    moment = now or clock.now()
    policy = policy or sla_policy_current()
    with transaction.atomic():
        locked = lead_lock(lead)
        if not _still_awaiting(locked) or locked.reroute_at is None or moment < locked.reroute_at:
            return ""
        if locked.reroute_count >= policy.max_reroutes:
            choice = RoutingChoice(
                dealer=None,
                reason_code=ReasonCode.SLA_EXHAUSTED,
                reason=_("No dealer contacted the person in time after %(n)d re-routes; the OEM follows up.")
                % {"n": locked.reroute_count},
            )
            queue_locked(locked, choice=choice, moment=moment)
            return "oem_queue"
        choice = routing_choose(
            city=locked.city, chosen_dealer=None, policy=policy, exclude_dealer_ids=dealers_tried(locked)
        )
        if choice.dealer is None:
            queue_locked(locked, choice=choice, moment=moment)
            return "oem_queue"
        lapsed = RoutingChoice(
            dealer=choice.dealer,
            reason_code=ReasonCode.SLA_LAPSED,
            reason=_("The previous dealer did not contact the person in time. %(why)s")
            % {"why": choice.reason},
            details={**choice.details, "rule": choice.reason_code},
        )
        route_locked(locked, lapsed, kind=RoutingKind.REROUTE, moment=moment, policy=policy)
        return "rerouted"


def lead_sla_sweep(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> dict[str, int]:
    """Escalate and re-route every lead whose time has come; running it again changes nothing."""
    moment = now or clock.now()
    policy = sla_policy_current()
    counts = {"escalated": 0, "rerouted": 0, "sent_to_oem_queue": 0}
    awaiting: dict[str, Any] = {
        "status__in": sorted(AWAITING_FIRST_CONTACT),
        "first_contacted_at__isnull": True,
        "dealer__isnull": False,
    }
    to_escalate = (
        Lead.objects.filter(**awaiting, escalated_at__isnull=True, sla_deadline__lte=moment)
        .order_by("sla_deadline")
        .values_list("pk", flat=True)[:batch]
    )
    for pk in list(to_escalate):
        counts["escalated"] += int(lead_escalate(lead=Lead(pk=pk), now=moment))
    to_reroute = (
        Lead.objects.filter(**awaiting, reroute_at__lte=moment)
        .order_by("reroute_at")
        .values_list("pk", flat=True)[:batch]
    )
    for pk in list(to_reroute):
        outcome = lead_reroute_if_due(lead=Lead(pk=pk), now=moment, policy=policy)
        if outcome == "rerouted":
            counts["rerouted"] += 1
        elif outcome == "oem_queue":
            counts["sent_to_oem_queue"] += 1
    return counts
