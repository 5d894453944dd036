"""Demo data for leads: about 3,000 leads over the last 90 days, across channels, cities and dealers.

Every pipeline state is present, with touchpoints from the media sites Chinese car buyers use
(Autohome, Dongchedi, Yiche, Douyin live streams, WeChat), routing decisions, call logs, overdue
leads, defeats with their reviews and the OEM's own queue. The first dealer (where the demo staff
logins work) gets a healthy share, so its inbox and KPI panel look alive.

Everything is written with bulk_create so seeding stays fast (a few seconds on SQLite): the people
(phones only as keyed hash + ciphertext, as the accounts service stores them) and their consents
to share with a dealer, the leads, their history and the events analytics will read. It is a
backfill of history, so no subscriber runs and no audit entry is written for it.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.db import transaction
from django.utils.translation import gettext as _

from forecourt.accounts.consent_texts import consent_current_version
from forecourt.accounts.models import Consent, ConsentMethod, ConsentPurpose, Role, User, user_public_id
from forecourt.core import clock
from forecourt.core.demo_people import demo_name
from forecourt.core.models import Event
from forecourt.core.phones import protect_phone
from forecourt.leads.demo_plans import (
    DAYS,
    FRESH_AT_FIRST_DEALER,
    QUESTIONS,
    SOURCES,
    LeadPlan,
    close_stale,
    demo_phone,
    inquiry_moment,
    plan_fresh_for_first_dealer,
    plan_pipeline,
    weighted_dealer,
)
from forecourt.leads.models import (
    Channel,
    ContactAttempt,
    DefeatDecision,
    DefeatReview,
    Lead,
    LeadStatus,
    RoutingDecision,
    RoutingKind,
    SlaPolicy,
    Touchpoint,
)

__all__ = ["FRESH_AT_FIRST_DEALER", "LEAD_COUNT", "seed"]

LEAD_COUNT = 3000
BATCH = 500


def _advisors_by_dealer(dealer_ids: list[int]) -> dict[int, list[int]]:
    result: dict[int, list[int]] = {}
    demo_logins = dict(
        User.objects.filter(username__in=["demo-sales", "demo-manager"]).values_list("username", "pk")
    )
    for dealer_id, user_id, role in (
        User.objects.filter(
            dealer_id__in=dealer_ids, role__in=[Role.SALES_ADVISOR, Role.DEALER_MANAGER], is_active=True
        )
        .values_list("dealer_id", "pk", "role")
        .order_by("pk")
    ):
        if role == Role.SALES_ADVISOR or user_id == demo_logins.get("demo-manager"):
            result.setdefault(dealer_id, []).append(user_id)
    # The demo sales login gets a bigger share of its dealer's leads: it is who a visitor signs in as.
    sales = demo_logins.get("demo-sales")
    for advisors in result.values():
        if sales in advisors:
            advisors.extend([sales, sales])
    return result


def _events_for(plan: LeadPlan, lead: Lead, actor_id: int | None) -> list[Event]:
    def event(name: str, at: datetime, **payload: Any) -> Event:
        return Event(
            name=name,
            occurred_at=at,
            subject_type="lead",
            subject_id=lead.public_id,
            actor_id=payload.pop("actor_id", None),
            dealer_id=lead.dealer_id,
            payload={"lead_id": lead.public_id, **payload},
        )

    events = [event("lead.created", plan.created_at, channel=plan.source.channel, status=LeadStatus.NEW)]
    if lead.dealer_id is None:
        events.append(event("lead.sent_to_oem_queue", plan.created_at, reason_code=plan.queue_reason))
        return events
    events.append(event("lead.routed", plan.created_at, status=LeadStatus.NEW))
    if plan.claimed_at:
        events.append(event("lead.claimed", plan.claimed_at, actor_id=plan.advisor_id))
    if plan.escalated_at:
        events.append(event("lead.escalated", plan.escalated_at))
    if plan.first_contacted_at:
        events.append(
            event(
                "lead.contacted",
                plan.first_contacted_at,
                actor_id=plan.advisor_id,
                within_sla=plan.sla_deadline is not None and plan.first_contacted_at <= plan.sla_deadline,
            )
        )
    for status, at in plan.milestones.items():
        events.append(event("lead.status_changed", at, to_status=status, actor_id=actor_id))
    return events


def _people(rng: random.Random, count: int, now: datetime) -> list[User]:
    """Consumers for the demo leads, bulk-written (like the dealers' demo staff) to keep seeding fast.

    Phones are stored exactly as the accounts service stores them: a keyed hash and a ciphertext.
    """
    seen = {digest for digest in User.objects.values_list("phone_hash", flat=True) if digest}
    people: list[User] = []
    while len(people) < count:
        _e164, digest, encrypted = protect_phone(demo_phone(rng))
        if digest in seen:
            continue
        seen.add(digest)
        identifier = user_public_id()
        person = User(
            public_id=identifier,
            username=identifier,
            role=Role.CONSUMER,
            display_name=demo_name(rng),
            phone_hash=digest,
            phone_encrypted=encrypted,
            date_joined=now - timedelta(days=rng.randint(1, 2 * DAYS)),
        )
        person.set_unusable_password()
        people.append(person)
    return User.objects.bulk_create(people, batch_size=BATCH)


def _consents(rng: random.Random, people: list[User]) -> None:
    """Consent to share with a dealer, recorded (backdated) for the people who gave it."""
    version = consent_current_version(ConsentPurpose.SHARE_WITH_DEALER)
    Consent.objects.bulk_create(
        [
            Consent(
                user=person,
                purpose=ConsentPurpose.SHARE_WITH_DEALER,
                text_version=version,
                granted_at=person.date_joined,
                method=rng.choice([ConsentMethod.WEB, ConsentMethod.API]),
            )
            for person in people
        ],
        batch_size=BATCH,
    )


def seed(*, rng: random.Random) -> None:
    """Create ~3,000 leads of the last 90 days in every state, most history bulk-written."""
    if Lead.objects.exists():
        return
    dealer_model = apps.get_model("dealers", "Dealer")
    dealers = list(
        dealer_model.objects.filter(is_active=True, offers_sales=True).select_related("city").order_by("id")
    )
    models = list(apps.get_model("catalog", "VehicleModel").objects.filter(is_active=True).order_by("id"))
    if not dealers or not models:
        return
    first = dealer_model.objects.filter(is_active=True).order_by("id").first()
    if first is None or not first.offers_sales:
        first = dealers[0]
    others = [dealer for dealer in dealers if dealer.pk != first.pk]
    policy = SlaPolicy.objects.order_by("pk").first() or SlaPolicy.objects.create()
    now = clock.now()
    tz = policy.calendar().tz
    advisors = _advisors_by_dealer([dealer.pk for dealer in dealers])

    with transaction.atomic():
        people = _people(rng, int(LEAD_COUNT * 0.85), now - timedelta(days=DAYS))
        sharing = [person for person in people if rng.random() < 0.95]
        _consents(rng, sharing)
        sharing_ids = {person.pk for person in sharing}

        plans: list[LeadPlan] = []
        pairs: set[tuple[int, int]] = set()
        while len(plans) < LEAD_COUNT:
            person = rng.choice(people)
            model = rng.choice(models)
            if (person.pk, model.pk) in pairs:
                continue
            pairs.add((person.pk, model.pk))
            dealer = weighted_dealer(rng, first, others)
            source = rng.choices(SOURCES, weights=[s.weight for s in SOURCES])[0]
            plan = LeadPlan(
                person=person,
                model_id=model.pk,
                city_id=dealer.city_id,
                dealer_id=dealer.pk,
                status=LeadStatus.NEW,
                created_at=inquiry_moment(rng, now, tz),
                source=source,
                site=rng.choice(source.sites),
                campaign=rng.choice(source.campaigns),
            )
            if person.pk not in sharing_ids:
                plan.dealer_id, plan.status, plan.queue_reason = None, LeadStatus.OEM_QUEUE, "no_consent"
            elif rng.random() < 0.012 and now - plan.created_at > timedelta(days=2):
                plan.dealer_id, plan.status, plan.queue_reason = None, LeadStatus.OEM_QUEUE, "sla_exhausted"
            else:
                if rng.random() < 0.05 and others:
                    plan.previous_dealer_id = rng.choice(others).pk
                plan_pipeline(rng, plan, now, policy, advisors.get(dealer.pk, []))
            plans.append(plan)

        plans.extend(
            plan_fresh_for_first_dealer(
                rng, first, people, sharing_ids, pairs, models, now, policy, advisors.get(first.pk, [])
            )
        )
        close_stale(rng, plans, {dealer.pk: dealer.lead_capacity for dealer in dealers}, now)
        leads = [_lead_row(rng, plan, now) for plan in plans]
        Lead.objects.bulk_create(leads, batch_size=BATCH)
        _history(rng, plans, leads, now)


def _lead_row(rng: random.Random, plan: LeadPlan, now: datetime) -> Lead:
    touches = [(plan.created_at, plan.source, plan.site, plan.campaign)]
    for _extra in range(rng.choices([0, 1, 2], weights=[60, 30, 10])[0]):
        extra = rng.choices(SOURCES[:6], weights=[s.weight for s in SOURCES[:6]])[0]
        at = plan.created_at + timedelta(hours=rng.randint(1, 240))
        if at < now:
            touches.append((at, extra, rng.choice(extra.sites), rng.choice(extra.campaigns)))
    touches.sort(key=lambda touch: touch[0])
    plan.touches = touches
    last = touches[-1]
    routed = plan.dealer_id is not None
    return Lead(
        person=plan.person,
        name=plan.person.display_name,
        city_id=plan.city_id,
        model_id=plan.model_id,
        status=plan.status,
        dealer_id=plan.dealer_id,
        advisor_id=plan.advisor_id if routed else None,
        oem_queue_reason=plan.queue_reason,
        routed_at=plan.created_at if routed else None,
        claimed_at=plan.claimed_at,
        first_contacted_at=plan.first_contacted_at,
        sla_deadline=plan.sla_deadline if routed else None,
        reroute_at=plan.reroute_at if routed else None,
        escalated_at=plan.escalated_at,
        reroute_count=1 if plan.previous_dealer_id else 0,
        next_follow_up_at=plan.next_follow_up_at,
        visit_booked_at=plan.milestones.get(LeadStatus.VISIT_BOOKED),
        visited_at=plan.milestones.get(LeadStatus.VISITED),
        test_driven_at=plan.milestones.get(LeadStatus.TEST_DRIVEN),
        won_at=plan.milestones.get(LeadStatus.WON),
        defeated_at=plan.milestones.get(LeadStatus.DEFEATED),
        first_channel=plan.source.channel,
        first_campaign=plan.campaign,
        first_source_site=plan.site,
        first_broker_code=_broker(rng) if plan.source.channel == Channel.BROKER_LINK else "",
        first_touch_at=plan.created_at,
        last_channel=last[1].channel,
        last_campaign=last[3],
        last_source_site=last[2],
        last_touch_at=last[0],
        touch_count=len(touches),
        created_at=plan.created_at,
        updated_at=max(filter(None, [plan.created_at, plan.first_contacted_at, *plan.milestones.values()])),
    )


def _broker(rng: random.Random) -> str:
    return f"BRK{rng.randrange(10**4):04d}"


def _history(rng: random.Random, plans: list[LeadPlan], leads: list[Lead], now: datetime) -> None:
    touchpoints: list[Touchpoint] = []
    decisions: list[RoutingDecision] = []
    attempts: list[ContactAttempt] = []
    reviews: list[DefeatReview] = []
    events: list[Event] = []
    names = dict(apps.get_model("dealers", "Dealer").objects.values_list("pk", "name"))
    managers = dict(
        User.objects.filter(role=Role.DEALER_MANAGER, dealer__isnull=False)
        .order_by("-pk")
        .values_list("dealer_id", "pk")
    )
    for plan, lead in zip(plans, leads, strict=True):
        for at, source, site, campaign in plan.touches:
            utm = {"utm_source": site, "utm_medium": source.medium, "utm_campaign": campaign} if site else {}
            touchpoints.append(
                Touchpoint(
                    lead=lead,
                    channel=source.channel,
                    campaign=campaign,
                    source_site=site,
                    broker_code=lead.first_broker_code if source.channel == Channel.BROKER_LINK else "",
                    utm={key: value for key, value in utm.items() if value},
                    landing_page="/models/" if site else "",
                    message=rng.choice(QUESTIONS) if source.channel == Channel.WEB_QUESTION else "",
                    occurred_at=at,
                )
            )
        decisions.extend(_decisions(plan, lead, names))
        dealer_id, advisor_id = lead.dealer_id, plan.advisor_id
        if dealer_id is None or advisor_id is None:
            events.extend(_events_for(plan, lead, advisor_id))
            continue
        for at, outcome, note in plan.attempts:
            attempts.append(
                ContactAttempt(
                    lead=lead,
                    dealer_id=dealer_id,
                    staff_id=advisor_id,
                    outcome=outcome,
                    note=note,
                    at=at,
                )
            )
        if plan.defeat:
            reason, evidence, decision = plan.defeat
            requested = plan.milestones.get(
                LeadStatus.DEFEATED, min(now, plan.created_at + timedelta(days=5))
            )
            reviewer = managers.get(dealer_id) if decision != DefeatDecision.PENDING else None
            reviews.append(
                DefeatReview(
                    lead=lead,
                    dealer_id=dealer_id,
                    reason=reason,
                    evidence=evidence,
                    requested_by_id=advisor_id,
                    requested_at=requested - timedelta(hours=2),
                    decision=decision if reviewer else DefeatDecision.PENDING,
                    reviewed_by_id=reviewer,
                    reviewed_at=requested if reviewer else None,
                )
            )
        events.extend(_events_for(plan, lead, plan.advisor_id))
    Touchpoint.objects.bulk_create(touchpoints, batch_size=BATCH)
    RoutingDecision.objects.bulk_create(decisions, batch_size=BATCH)
    ContactAttempt.objects.bulk_create(attempts, batch_size=BATCH)
    DefeatReview.objects.bulk_create(reviews, batch_size=BATCH)
    Event.objects.bulk_create(events, batch_size=BATCH)


def _decisions(plan: LeadPlan, lead: Lead, names: dict[int, str]) -> list[RoutingDecision]:
    # Reasons in the default language (Chinese), worded as the routing service words them.
    if lead.dealer_id is None:
        reason = (
            _("The person has not agreed to share their details with a dealer.")
            if plan.queue_reason == "no_consent"
            else _("No dealer contacted the person in time after %(n)d re-routes; the OEM follows up.")
            % {"n": 2}
        )
        return [
            RoutingDecision(
                lead=lead,
                dealer=None,
                kind=RoutingKind.OEM_QUEUE,
                reason_code=plan.queue_reason,
                reason=reason,
                decided_at=plan.created_at,
            )
        ]
    balanced = _("The least loaded of the nearest sales dealers in the city.")
    rows = []
    if plan.previous_dealer_id:
        rows.append(
            RoutingDecision(
                lead=lead,
                dealer_id=plan.previous_dealer_id,
                kind=RoutingKind.INITIAL,
                reason_code="city_nearest_balanced",
                reason=balanced,
                decided_at=plan.created_at - timedelta(hours=4),
                sla_deadline=plan.created_at - timedelta(hours=2),
            )
        )
        kind, code = RoutingKind.REROUTE, "sla_lapsed"
        reason = _("The previous dealer did not contact the person in time. %(why)s") % {"why": balanced}
    elif plan.source.channel in (Channel.WALK_IN, Channel.PHONE_CALL, Channel.TEST_DRIVE_BOOKING):
        kind, code = RoutingKind.INITIAL, "chosen_dealer"
        reason = _("The person chose %(dealer)s.") % {"dealer": names.get(lead.dealer_id, "")}
    else:
        kind, code, reason = RoutingKind.INITIAL, "city_nearest_balanced", balanced
    rows.append(
        RoutingDecision(
            lead=lead,
            dealer_id=lead.dealer_id,
            kind=kind,
            reason_code=code,
            reason=reason,
            decided_at=plan.created_at,
            sla_deadline=plan.sla_deadline,
        )
    )
    return rows
