"""Routing: which dealer follows up a lead, why, and what happens when the dealer lets the clock lapse.

The rule (stored as the reason of every decision):
1. The dealer the person chose, if it is active and offers sales.
2. Otherwise the sales dealers of the person's city, nearest to the city centre first. Among the
   nearest N (the policy's `routing_nearest_count`, default 3) that still have room (open leads below
   `lead_capacity`), the one with the lowest load ratio (open leads ÷ capacity) wins; a tie goes to
   the nearer. If all N are full, the least-loaded sales dealer of the city with room wins.
3. No sales dealer in the city: the same rule over the nearest sales dealers of other cities within
   OTHER_CITY_RADIUS_KM of the city centre.
4. Nobody with room (or no city known): the OEM's own follow-up queue.
A re-route applies the same rule without the dealers the lead has already been with.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count
from django.utils.translation import gettext as _

from forecourt.dealers.models import City, Dealer, Service
from forecourt.dealers.selectors import DealerDistance, dealer_nearest
from forecourt.leads.business_hours import add_business_minutes
from forecourt.leads.models import CLOSED_STATUSES, Lead, LeadStatus, RoutingDecision, RoutingKind, SlaPolicy
from forecourt.leads.services.transitions import apply_transition, lead_event

# Beyond this a dealer in another city is no use to the person; the OEM queue follows up instead.
OTHER_CITY_RADIUS_KM = 150.0
# How many dealers the city-wide fallback looks at when the nearest N are full.
CITY_WIDE_LIMIT = 60


class ReasonCode:
    CHOSEN_DEALER = "chosen_dealer"
    CHOSEN_DEALER_NO_SALES = "chosen_dealer_no_sales"
    CITY_NEAREST_BALANCED = "city_nearest_balanced"
    CITY_WIDE_BALANCED = "city_wide_balanced"
    NEAREST_OTHER_CITY = "nearest_other_city"
    NO_CONSENT = "no_consent"
    NO_CITY = "no_city"
    NO_DEALER = "no_dealer"
    ALL_AT_CAPACITY = "all_at_capacity"
    SLA_LAPSED = "sla_lapsed"
    SLA_EXHAUSTED = "sla_exhausted"
    CONSENT_WITHDRAWN = "consent_withdrawn"


@dataclass(frozen=True)
class RoutingChoice:
    dealer: Dealer | None
    reason_code: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


def open_lead_counts(dealer_ids: Iterable[int]) -> dict[int, int]:
    """Open leads each dealer holds now (the load that routing balances)."""
    ids = list(dealer_ids)
    if not ids:
        return {}
    rows = (
        Lead.objects.filter(dealer_id__in=ids)
        .exclude(status__in=sorted(CLOSED_STATUSES))
        .values("dealer_id")
        .annotate(open_leads=Count("id"))
        .values_list("dealer_id", "open_leads")
    )
    counts = dict.fromkeys(ids, 0)
    counts.update(dict(rows))
    return counts


def _load(candidate: DealerDistance, counts: dict[int, int]) -> float:
    capacity = candidate.dealer.lead_capacity
    return counts[candidate.dealer.pk] / capacity if capacity else float("inf")


def _candidate_details(candidates: Sequence[DealerDistance], counts: dict[int, int]) -> list[dict[str, Any]]:
    return [
        {
            "dealer": entry.dealer.public_id,
            "distance_km": round(entry.distance_km, 2),
            "open_leads": counts.get(entry.dealer.pk, 0),
            "capacity": entry.dealer.lead_capacity,
        }
        for entry in candidates
    ]


def _least_loaded(candidates: Sequence[DealerDistance], counts: dict[int, int]) -> DealerDistance | None:
    with_room = [entry for entry in candidates if counts[entry.dealer.pk] < entry.dealer.lead_capacity]
    if not with_room:
        return None
    # min() keeps the first of equals, and candidates come nearest first: a tie goes to the nearer.
    return min(with_room, key=lambda entry: _load(entry, counts))


def _pick(
    candidates: list[DealerDistance], *, nearest_count: int, reason_code: str, place: str, prefix: str = ""
) -> RoutingChoice | None:
    nearest = candidates[:nearest_count]
    counts = open_lead_counts(entry.dealer.pk for entry in candidates)
    winner = _least_loaded(nearest, counts)
    code = reason_code
    if winner is None and len(candidates) > len(nearest):
        winner = _least_loaded(candidates, counts)
        code = (
            ReasonCode.CITY_WIDE_BALANCED if reason_code == ReasonCode.CITY_NEAREST_BALANCED else reason_code
        )
    if winner is None:
        return None
    reason = _(
        "%(prefix)s%(dealer)s: the least loaded of the nearest sales dealers %(place)s "
        "(%(distance).1f km from the city centre, %(open)d of %(capacity)d open leads)."
    ) % {
        "prefix": prefix,
        "dealer": winner.dealer.name,
        "place": place,
        "distance": winner.distance_km,
        "open": counts[winner.dealer.pk],
        "capacity": winner.dealer.lead_capacity,
    }
    return RoutingChoice(
        dealer=winner.dealer,
        reason_code=code,
        reason=reason.strip(),
        details={"candidates": _candidate_details(candidates[: max(nearest_count, 10)], counts)},
    )


def routing_choose(
    *,
    city: City | None,
    chosen_dealer: Dealer | None,
    policy: SlaPolicy,
    exclude_dealer_ids: frozenset[int] = frozenset(),
) -> RoutingChoice:
    """Decide the dealer for a lead (or none: the OEM queue) and explain why; reads only."""
    prefix = ""
    if chosen_dealer is not None and chosen_dealer.pk not in exclude_dealer_ids:
        if chosen_dealer.is_active and chosen_dealer.offers_sales:
            return RoutingChoice(
                dealer=chosen_dealer,
                reason_code=ReasonCode.CHOSEN_DEALER,
                reason=_("The person chose %(dealer)s.") % {"dealer": chosen_dealer.name},
            )
        prefix = _("%(dealer)s does not sell cars, so the lead went to ") % {"dealer": chosen_dealer.name}
        city = city or chosen_dealer.city
    if city is None:
        return RoutingChoice(
            dealer=None, reason_code=ReasonCode.NO_CITY, reason=_("No city is known for the person.")
        )

    def usable(entries: list[DealerDistance]) -> list[DealerDistance]:
        return [entry for entry in entries if entry.dealer.pk not in exclude_dealer_ids]

    nearest_count = max(1, policy.routing_nearest_count)
    place = _("in %(city)s") % {"city": city.name}

    def in_city(limit: int) -> list[DealerDistance]:
        found = dealer_nearest(
            latitude=city.latitude,
            longitude=city.longitude,
            service=Service.SALES,
            limit=limit + len(exclude_dealer_ids),
            city_code=city.code,
        )
        return usable(found)[:limit]

    # The nearest few decide almost always; the whole city is read only when all of them are full.
    nearest = in_city(nearest_count)
    if nearest:
        candidates = nearest
        choice = _pick(
            candidates,
            nearest_count=nearest_count,
            reason_code=ReasonCode.CITY_NEAREST_BALANCED,
            place=place,
            prefix=prefix,
        )
        if choice is None:
            candidates = in_city(CITY_WIDE_LIMIT)
            choice = _pick(
                candidates,
                nearest_count=nearest_count,
                reason_code=ReasonCode.CITY_NEAREST_BALANCED,
                place=place,
                prefix=prefix,
            )
        if choice is not None:
            return choice
        counts = open_lead_counts(entry.dealer.pk for entry in candidates)
        return RoutingChoice(
            dealer=None,
            reason_code=ReasonCode.ALL_AT_CAPACITY,
            reason=_("Every sales dealer in %(city)s is at its lead capacity.") % {"city": city.name},
            details={"candidates": _candidate_details(candidates[:10], counts)},
        )
    elsewhere = [
        entry
        for entry in usable(
            dealer_nearest(
                latitude=city.latitude,
                longitude=city.longitude,
                service=Service.SALES,
                limit=nearest_count + len(exclude_dealer_ids),
            )
        )
        if entry.distance_km <= OTHER_CITY_RADIUS_KM
    ]
    if elsewhere:
        choice = _pick(
            elsewhere,
            nearest_count=nearest_count,
            reason_code=ReasonCode.NEAREST_OTHER_CITY,
            place=_("near %(city)s (none in the city itself)") % {"city": city.name},
            prefix=prefix,
        )
        if choice is not None:
            return choice
    return RoutingChoice(
        dealer=None,
        reason_code=ReasonCode.NO_DEALER,
        reason=_("No sales dealer with room within %(km)d km of %(city)s.")
        % {"km": int(OTHER_CITY_RADIUS_KM), "city": city.name},
    )


def sla_deadlines(moment: datetime, policy: SlaPolicy) -> tuple[datetime, datetime]:
    """(first-contact deadline, re-route time) for a dealer given the lead at `moment`."""
    calendar = policy.calendar()
    minutes = policy.first_contact_business_minutes
    return add_business_minutes(moment, minutes, calendar), add_business_minutes(
        moment, 2 * minutes, calendar
    )


def decision_record(
    lead: Lead,
    choice: RoutingChoice,
    *,
    kind: str,
    moment: datetime,
    actor: Any = None,
    from_dealer: Dealer | None = None,
) -> RoutingDecision:
    """Store the routing decision the lead now reflects, and record its event."""
    queued = choice.dealer is None
    decision = RoutingDecision.objects.create(
        lead=lead,
        dealer=choice.dealer,
        kind=RoutingKind.OEM_QUEUE if queued else kind,
        reason_code=choice.reason_code,
        reason=choice.reason[:500],
        details=choice.details,
        sla_deadline=None if queued else lead.sla_deadline,
        decided_at=moment,
    )
    previous = from_dealer.public_id if from_dealer is not None else None
    if queued:
        lead_event(
            "lead.sent_to_oem_queue", lead, actor=actor, reason_code=choice.reason_code, from_dealer=previous
        )
        return decision
    payload: dict[str, Any] = {
        "dealer": choice.dealer.public_id if choice.dealer else None,
        "reason_code": choice.reason_code,
        "sla_deadline": lead.sla_deadline.isoformat() if lead.sla_deadline else None,
    }
    if kind == RoutingKind.REROUTE:
        lead_event(
            "lead.rerouted",
            lead,
            actor=actor,
            from_dealer=previous,
            reroute_count=lead.reroute_count,
            **payload,
        )
    else:
        lead_event("lead.routed", lead, actor=actor, **payload)
    return decision


def route_locked(
    lead: Lead,
    choice: RoutingChoice,
    *,
    kind: str,
    moment: datetime,
    policy: SlaPolicy,
    actor: Any = None,
) -> RoutingDecision:
    """Give a locked lead to the chosen dealer (or the OEM queue), record the decision and the event."""
    if choice.dealer is None:
        return queue_locked(lead, choice=choice, moment=moment, actor=actor)
    previous_dealer = lead.dealer
    lead.dealer = choice.dealer
    lead.routed_at = moment
    lead.sla_deadline, lead.reroute_at = sla_deadlines(moment, policy)
    lead.escalated_at = None
    lead.oem_queue_reason = ""
    # A new dealer starts afresh: the previous dealer's advisor and contact do not carry over.
    lead.advisor = None
    lead.claimed_at = None
    lead.first_contacted_at = None
    if kind == RoutingKind.REROUTE:
        lead.reroute_count += 1
    lead.updated_at = moment
    fields = [
        "dealer",
        "routed_at",
        "sla_deadline",
        "reroute_at",
        "escalated_at",
        "oem_queue_reason",
        "advisor",
        "claimed_at",
        "first_contacted_at",
        "reroute_count",
        "updated_at",
    ]
    if lead.status == LeadStatus.NEW:
        lead.save(update_fields=fields)
    else:
        apply_transition(
            lead, LeadStatus.NEW, actor=actor, moment=moment, note=choice.reason_code, also_save=fields
        )
    return decision_record(lead, choice, kind=kind, moment=moment, actor=actor, from_dealer=previous_dealer)


def queue_locked(
    lead: Lead, *, choice: RoutingChoice, moment: datetime, actor: Any = None
) -> RoutingDecision:
    """Send a locked lead to the OEM's own follow-up queue: no dealer sees it any more."""
    previous_dealer = lead.dealer
    lead.oem_queue_reason = choice.reason_code
    lead.updated_at = moment
    if lead.status == LeadStatus.OEM_QUEUE:
        lead.save(update_fields=["oem_queue_reason", "updated_at"])
    else:
        # The status and the dealer change in one UPDATE: a dealer never holds a queued lead (a constraint).
        lead.dealer = None
        lead.advisor = None
        lead.claimed_at = None
        lead.sla_deadline = None
        lead.reroute_at = None
        lead.escalated_at = None
        apply_transition(
            lead,
            LeadStatus.OEM_QUEUE,
            actor=actor,
            moment=moment,
            note=choice.reason_code,
            also_save=[
                "dealer",
                "advisor",
                "claimed_at",
                "sla_deadline",
                "reroute_at",
                "escalated_at",
                "oem_queue_reason",
            ],
        )
    return decision_record(
        lead, choice, kind=RoutingKind.OEM_QUEUE, moment=moment, actor=actor, from_dealer=previous_dealer
    )


def dealers_tried(lead: Lead) -> frozenset[int]:
    """Dealers the lead has already been routed to (a re-route skips them)."""
    return frozenset(
        RoutingDecision.objects.filter(lead=lead, dealer__isnull=False).values_list("dealer_id", flat=True)
    )
