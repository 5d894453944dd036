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

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.db import transaction

from forecourt.accounts.consent_texts import consent_current_version
from forecourt.accounts.models import Consent, ConsentMethod, ConsentPurpose, Role, User, user_public_id
from forecourt.core import clock
from forecourt.core.models import Event
from forecourt.core.phones import protect_phone
from forecourt.leads.business_hours import add_business_minutes
from forecourt.leads.models import (
    Channel,
    ContactAttempt,
    ContactOutcome,
    DefeatDecision,
    DefeatReason,
    DefeatReview,
    Lead,
    LeadStatus,
    RoutingDecision,
    RoutingKind,
    SlaPolicy,
    Touchpoint,
)

LEAD_COUNT = 3000
DAYS = 90
FIRST_DEALER_SHARE = 0.06
# Open leads a dealer holds after seeding, as a share of its capacity: routing must still have room.
OPEN_LOAD_TARGET = 0.7
FRESH_AT_FIRST_DEALER = 8
BATCH = 500

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
_GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "霞", "平", "刚",
          "浩然", "子涵", "欣怡", "梓轩", "一诺", "雨桐", "宇航", "思远", "嘉怡", "晨曦", "建华", "丽华", "志强", "海燕"]
_PREFIXES = ["134", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "178", "182",
             "183", "187", "188", "198", "130", "131", "132", "155", "156", "166", "175", "176", "185", "186",
             "133", "153", "173", "177", "180", "181", "189", "199"]


@dataclass(frozen=True)
class _Source:
    channel: str
    weight: int
    sites: tuple[str, ...]
    campaigns: tuple[str, ...]
    medium: str


# Where leads come from, roughly as a Chinese OEM sees it: vertical car media first, then live streams.
_SOURCES: tuple[_Source, ...] = (
    _Source(Channel.WEB_PRICE_INQUIRY, 34, ("autohome", "dongchedi", "yiche", "official_site"),
            ("double11-2026", "q4-price-drop", "autumn-auto-show", ""), "cpc"),
    _Source(Channel.LIVE_STREAM, 14, ("douyin", "kuaishou", "wechat_channels"),
            ("launch-live-2026", "weekend-live", "designer-live"), "live"),
    _Source(Channel.WEB_TEST_DRIVE, 12, ("official_site", "wechat_mini_program", "dongchedi"),
            ("test-drive-week", ""), "organic"),
    _Source(Channel.WEB_QUESTION, 8, ("official_site", "wechat_mini_program"), ("", "faq"), "organic"),
    _Source(Channel.BROKER_LINK, 9, ("wechat", "xiaohongshu"), ("owner-referral", "friends-ride"), "referral"),
    _Source(Channel.PARTNER_IMPORT, 8, ("autohome", "yiche", "dongchedi"), ("partner-feed",), "partner"),
    _Source(Channel.WALK_IN, 7, ("",), ("",), ""),
    _Source(Channel.PHONE_CALL, 4, ("",), ("",), ""),
    _Source(Channel.TEST_DRIVE_BOOKING, 4, ("official_site",), ("test-drive-week",), "organic"),
)
_CALL_NOTES = ["客户在比较竞品，约周末到店", "关心续航和充电桩安装", "想了解金融方案，首付三成", "预算三十万以内",
               "家里第二台车，重视空间", "已加微信，发送了配置单", "客户在外地出差，下周再联系", "对白色外观感兴趣",
               "希望试驾长续航版", "询问置换补贴政策", ""]
_EVIDENCE = ["连续三天拨打均未接通，短信也未回复。", "客户表示已在其他品牌4S店下定。", "客户称预算不足，暂缓购车。",
             "客户明确表示半年内不考虑购车。", "号码为空号，核实后无效。"]
_QUESTIONS = ["有现车吗？", "保养费用大概多少？", "冬天续航打几折？", "可以上门试驾吗？", ""]


@dataclass
class _Plan:
    """One demo lead, decided before any row is written."""

    person: User
    model_id: int
    city_id: int | None
    dealer_id: int | None
    status: str
    created_at: datetime
    source: _Source
    site: str
    campaign: str
    advisor_id: int | None = None
    claimed_at: datetime | None = None
    first_contacted_at: datetime | None = None
    sla_deadline: datetime | None = None
    reroute_at: datetime | None = None
    escalated_at: datetime | None = None
    milestones: dict[str, datetime] = field(default_factory=dict)
    attempts: list[tuple[datetime, str, str]] = field(default_factory=list)
    touches: list[tuple[datetime, _Source, str, str]] = field(default_factory=list)
    previous_dealer_id: int | None = None
    queue_reason: str = ""
    defeat: tuple[str, str, str] | None = None  # (reason, evidence, decision)
    next_follow_up_at: datetime | None = None


def _phone(rng: random.Random) -> str:
    # Never the demo consumer's number (13800138000): that person signs in and has no demo leads.
    while True:
        phone = rng.choice(_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if phone != "13800138000":
            return phone


def _moment(rng: random.Random, now: datetime, tz: Any) -> datetime:
    # More recent days are busier (the campaign is ramping up); most inquiries come 9:00–22:00.
    days_ago = min(DAYS - 1, int(rng.expovariate(1 / 28)))
    day = (now - timedelta(days=days_ago)).astimezone(tz).date()
    hour = rng.choices(range(24), weights=[1, 1, 1, 1, 1, 1, 2, 4, 6, 9, 11, 11, 10, 9, 10, 11, 11, 10, 9, 11,
                                          12, 11, 7, 3])[0]
    moment = datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=tz)
    return min(moment, now - timedelta(minutes=rng.randint(2, 90)))


def _weighted_dealer(rng: random.Random, first: Any, others: list[Any]) -> Any:
    return first if rng.random() < FIRST_DEALER_SHARE or not others else rng.choice(others)


def _advisors_by_dealer(dealer_ids: list[int]) -> dict[int, list[int]]:
    result: dict[int, list[int]] = {}
    demo_logins = dict(User.objects.filter(username__in=["demo-sales", "demo-manager"]).values_list("username", "pk"))
    for dealer_id, user_id, role in User.objects.filter(
        dealer_id__in=dealer_ids, role__in=[Role.SALES_ADVISOR, Role.DEALER_MANAGER], is_active=True
    ).values_list("dealer_id", "pk", "role").order_by("pk"):
        if role == Role.SALES_ADVISOR or user_id == demo_logins.get("demo-manager"):
            result.setdefault(dealer_id, []).append(user_id)
    # The demo sales login gets a bigger share of its dealer's leads: it is who a visitor signs in as.
    sales = demo_logins.get("demo-sales")
    for advisors in result.values():
        if sales in advisors:
            advisors.extend([sales, sales])
    return result


def _plan_pipeline(rng: random.Random, plan: _Plan, now: datetime, policy: SlaPolicy, advisors: list[int]) -> None:
    calendar = policy.calendar()
    minutes = policy.first_contact_business_minutes
    start = plan.created_at
    plan.sla_deadline = add_business_minutes(start, minutes, calendar)
    plan.reroute_at = add_business_minutes(start, 2 * minutes, calendar)
    age = now - start
    # Fresh leads are mostly untouched; a few of them are already overdue (the demo's red rows).
    if age < timedelta(hours=30) and rng.random() < 0.55:
        if advisors and rng.random() < 0.4:
            plan.status, plan.advisor_id = LeadStatus.ASSIGNED, rng.choice(advisors)
            plan.claimed_at = start + timedelta(minutes=rng.randint(3, 40))
        if plan.sla_deadline <= now:
            plan.escalated_at = plan.sla_deadline
        return
    if not advisors:
        return
    plan.advisor_id = rng.choice(advisors)
    plan.claimed_at = start + timedelta(minutes=rng.randint(2, 50))
    # Most dealers answer within the SLA; a tail answers late (the KPI's point).
    delay = rng.lognormvariate(math.log(55), 0.8)
    contact_at = add_business_minutes(start, max(3, int(delay)), calendar)
    if contact_at >= now:
        plan.status = LeadStatus.ASSIGNED
        return
    plan.claimed_at = min(plan.claimed_at, contact_at)
    plan.first_contacted_at = contact_at
    if plan.sla_deadline and contact_at > plan.sla_deadline:
        plan.escalated_at = plan.sla_deadline
    reached = rng.random() < 0.82
    attempts = rng.randint(1, 3)
    for index in range(attempts):
        at = contact_at + timedelta(hours=index * rng.randint(3, 30))
        if at >= now:
            break
        last = index == attempts - 1
        outcome = ContactOutcome.REACHED if (reached and last) else rng.choice(
            [ContactOutcome.NO_ANSWER, ContactOutcome.BUSY, ContactOutcome.CALLBACK_REQUESTED])
        plan.attempts.append((at, outcome, rng.choice(_CALL_NOTES)))
    plan.status = LeadStatus.CONTACTED if reached else LeadStatus.ASSIGNED
    cursor = plan.attempts[-1][0]
    for step, chance in ((LeadStatus.VISIT_BOOKED, 0.42), (LeadStatus.VISITED, 0.72),
                         (LeadStatus.TEST_DRIVEN, 0.78), (LeadStatus.WON, 0.32)):
        if not reached or rng.random() > chance:
            break
        cursor = cursor + timedelta(hours=rng.randint(6, 96))
        if cursor >= now:
            break
        plan.milestones[step] = cursor
        plan.status = step
    if plan.status != LeadStatus.WON and age > timedelta(days=6):
        # The older an open lead, the likelier it was given up: a month on, about half were.
        approved = 0.12 if age < timedelta(days=14) else (0.3 if age < timedelta(days=30) else 0.5)
        roll = rng.random()
        if roll < approved + 0.06:
            reason = rng.choice(DefeatReason.values[:-1])
            decision = DefeatDecision.APPROVED if roll < approved else (
                DefeatDecision.PENDING if roll < approved + 0.03 else DefeatDecision.REJECTED)
            plan.defeat = (reason, rng.choice(_EVIDENCE), decision)
            if decision == DefeatDecision.APPROVED:
                plan.status = LeadStatus.DEFEATED
                plan.milestones[LeadStatus.DEFEATED] = min(now, cursor + timedelta(days=rng.randint(1, 5)))
    if plan.status not in (LeadStatus.WON, LeadStatus.DEFEATED):
        plan.next_follow_up_at = now + timedelta(hours=rng.randint(-30, 120))


def _events_for(plan: _Plan, lead: Lead, actor_id: int | None) -> list[Event]:
    def event(name: str, at: datetime, **payload: Any) -> Event:
        return Event(name=name, occurred_at=at, subject_type="lead", subject_id=lead.public_id,
                     actor_id=payload.pop("actor_id", None), dealer_id=lead.dealer_id,
                     payload={"lead_id": lead.public_id, **payload})

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
        events.append(event("lead.contacted", plan.first_contacted_at, actor_id=plan.advisor_id,
                            within_sla=plan.first_contacted_at <= plan.sla_deadline))
    for status, at in plan.milestones.items():
        events.append(event("lead.status_changed", at, to_status=status, actor_id=actor_id))
    return events


def _people(rng: random.Random, count: int, now: datetime) -> list[User]:
    """Consumers for the demo leads, bulk-written (like the dealers' demo staff) to keep seeding fast.

    Phones are stored exactly as the accounts service stores them: a keyed hash and a ciphertext.
    """
    seen: set[str] = set(User.objects.exclude(phone_hash=None).values_list("phone_hash", flat=True))
    people = []
    while len(people) < count:
        _e164, digest, encrypted = protect_phone(_phone(rng))
        if digest in seen:
            continue
        seen.add(digest)
        identifier = user_public_id()
        person = User(public_id=identifier, username=identifier, role=Role.CONSUMER,
                      display_name=rng.choice(_SURNAMES) + rng.choice(_GIVEN), phone_hash=digest,
                      phone_encrypted=encrypted, date_joined=now - timedelta(days=rng.randint(1, 2 * DAYS)))
        person.set_unusable_password()
        people.append(person)
    return User.objects.bulk_create(people, batch_size=BATCH)


def _consents(rng: random.Random, people: list[User]) -> None:
    """Consent to share with a dealer, recorded (backdated) for the people who gave it."""
    version = consent_current_version(ConsentPurpose.SHARE_WITH_DEALER)
    Consent.objects.bulk_create(
        [
            Consent(user=person, purpose=ConsentPurpose.SHARE_WITH_DEALER, text_version=version,
                    granted_at=person.date_joined, method=rng.choice([ConsentMethod.WEB, ConsentMethod.API]))
            for person in people
        ],
        batch_size=BATCH,
    )


def seed(*, rng: random.Random) -> None:
    """Create ~3,000 leads of the last 90 days in every state, most history bulk-written."""
    if Lead.objects.exists():
        return
    dealer_model = apps.get_model("dealers", "Dealer")
    dealers = list(dealer_model.objects.filter(is_active=True, offers_sales=True).select_related("city").order_by("id"))
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

        plans: list[_Plan] = []
        pairs: set[tuple[int, int]] = set()
        while len(plans) < LEAD_COUNT:
            person = rng.choice(people)
            model = rng.choice(models)
            if (person.pk, model.pk) in pairs:
                continue
            pairs.add((person.pk, model.pk))
            dealer = _weighted_dealer(rng, first, others)
            source = rng.choices(_SOURCES, weights=[s.weight for s in _SOURCES])[0]
            plan = _Plan(person=person, model_id=model.pk, city_id=dealer.city_id, dealer_id=dealer.pk,
                         status=LeadStatus.NEW, created_at=_moment(rng, now, tz), source=source,
                         site=rng.choice(source.sites), campaign=rng.choice(source.campaigns))
            if person.pk not in sharing_ids:
                plan.dealer_id, plan.status, plan.queue_reason = None, LeadStatus.OEM_QUEUE, "no_consent"
            elif rng.random() < 0.012 and now - plan.created_at > timedelta(days=2):
                plan.dealer_id, plan.status, plan.queue_reason = None, LeadStatus.OEM_QUEUE, "sla_exhausted"
            else:
                if rng.random() < 0.05 and others:
                    plan.previous_dealer_id = rng.choice(others).pk
                _plan_pipeline(rng, plan, now, policy, advisors.get(dealer.pk, []))
            plans.append(plan)

        plans.extend(_fresh_for_first_dealer(rng, first, people, sharing_ids, pairs, models, now, policy,
                                             advisors.get(first.pk, [])))
        _close_stale(rng, plans, {dealer.pk: dealer.lead_capacity for dealer in dealers}, now)
        leads = [_lead_row(rng, plan, now) for plan in plans]
        Lead.objects.bulk_create(leads, batch_size=BATCH)
        _history(rng, plans, leads, now)


def _fresh_for_first_dealer(
    rng: random.Random,
    first: Any,
    people: list[User],
    sharing_ids: set[int],
    pairs: set[tuple[int, int]],
    models: list[Any],
    now: datetime,
    policy: SlaPolicy,
    advisors: list[int],
) -> list[_Plan]:
    """A few inquiries of the last hours at the demo dealer: countdowns running, some already overdue."""
    calendar = policy.calendar()
    minutes = policy.first_contact_business_minutes
    plans = []
    for index in range(FRESH_AT_FIRST_DEALER):
        person = rng.choice([p for p in people if p.pk in sharing_ids])
        model = rng.choice(models)
        if (person.pk, model.pk) in pairs:
            continue
        pairs.add((person.pk, model.pk))
        source = rng.choices(_SOURCES[:5], weights=[s.weight for s in _SOURCES[:5]])[0]
        created = now - timedelta(minutes=15 + index * rng.randint(20, 45))
        plan = _Plan(person=person, model_id=model.pk, city_id=first.city_id, dealer_id=first.pk,
                     status=LeadStatus.NEW, created_at=created, source=source, site=rng.choice(source.sites),
                     campaign=rng.choice(source.campaigns))
        plan.sla_deadline = add_business_minutes(created, minutes, calendar)
        plan.reroute_at = add_business_minutes(created, 2 * minutes, calendar)
        if advisors and index % 3 == 1:
            plan.status, plan.advisor_id, plan.claimed_at = LeadStatus.ASSIGNED, rng.choice(advisors), created
        if plan.sla_deadline <= now:
            plan.escalated_at = plan.sla_deadline
        plans.append(plan)
    return plans


def _close_stale(rng: random.Random, plans: list[_Plan], capacity: dict[int, int], now: datetime) -> None:
    """Close each dealer's oldest open leads (won after a test drive, else defeated) down to the target load.

    Real dealers close stale leads; without this the demo network would be over capacity and
    routing would send every new inquiry to the OEM queue.
    """
    by_dealer: dict[int, list[_Plan]] = {}
    for plan in plans:
        if plan.dealer_id is not None and plan.status not in (LeadStatus.WON, LeadStatus.DEFEATED):
            by_dealer.setdefault(plan.dealer_id, []).append(plan)
    for dealer_id, open_plans in by_dealer.items():
        excess = len(open_plans) - int(capacity.get(dealer_id, 0) * OPEN_LOAD_TARGET)
        for plan in sorted(open_plans, key=lambda p: p.created_at)[: max(0, excess)]:
            if not plan.attempts:
                continue
            closed_at = min(now - timedelta(hours=1), plan.attempts[-1][0] + timedelta(days=rng.randint(2, 12)))
            if plan.status == LeadStatus.TEST_DRIVEN and rng.random() < 0.5:
                plan.status = LeadStatus.WON
                plan.milestones[LeadStatus.WON] = max(closed_at, plan.milestones[LeadStatus.TEST_DRIVEN])
            else:
                plan.defeat = (rng.choice(DefeatReason.values[:-1]), rng.choice(_EVIDENCE), DefeatDecision.APPROVED)
                plan.status = LeadStatus.DEFEATED
                plan.milestones[LeadStatus.DEFEATED] = max([closed_at, *plan.milestones.values()])
            plan.next_follow_up_at = None


def _lead_row(rng: random.Random, plan: _Plan, now: datetime) -> Lead:
    touches = [(plan.created_at, plan.source, plan.site, plan.campaign)]
    for _ in range(rng.choices([0, 1, 2], weights=[60, 30, 10])[0]):
        extra = rng.choices(_SOURCES[:6], weights=[s.weight for s in _SOURCES[:6]])[0]
        at = plan.created_at + timedelta(hours=rng.randint(1, 240))
        if at < now:
            touches.append((at, extra, rng.choice(extra.sites), rng.choice(extra.campaigns)))
    touches.sort(key=lambda touch: touch[0])
    plan.touches = touches
    last = touches[-1]
    routed = plan.dealer_id is not None
    return Lead(
        person=plan.person, name=plan.person.display_name, city_id=plan.city_id, model_id=plan.model_id,
        status=plan.status, dealer_id=plan.dealer_id, advisor_id=plan.advisor_id if routed else None,
        oem_queue_reason=plan.queue_reason, routed_at=plan.created_at if routed else None,
        claimed_at=plan.claimed_at, first_contacted_at=plan.first_contacted_at,
        sla_deadline=plan.sla_deadline if routed else None, reroute_at=plan.reroute_at if routed else None,
        escalated_at=plan.escalated_at, reroute_count=1 if plan.previous_dealer_id else 0,
        next_follow_up_at=plan.next_follow_up_at,
        visit_booked_at=plan.milestones.get(LeadStatus.VISIT_BOOKED),
        visited_at=plan.milestones.get(LeadStatus.VISITED),
        test_driven_at=plan.milestones.get(LeadStatus.TEST_DRIVEN),
        won_at=plan.milestones.get(LeadStatus.WON), defeated_at=plan.milestones.get(LeadStatus.DEFEATED),
        first_channel=plan.source.channel, first_campaign=plan.campaign, first_source_site=plan.site,
        first_broker_code=_broker(rng) if plan.source.channel == Channel.BROKER_LINK else "",
        first_touch_at=plan.created_at, last_channel=last[1].channel, last_campaign=last[3],
        last_source_site=last[2], last_touch_at=last[0], touch_count=len(touches),
        created_at=plan.created_at, updated_at=max(filter(None, [plan.created_at, plan.first_contacted_at,
                                                                 *plan.milestones.values()])),
    )


def _broker(rng: random.Random) -> str:
    return f"BRK{rng.randrange(10**4):04d}"


def _history(rng: random.Random, plans: list[_Plan], leads: list[Lead], now: datetime) -> None:
    touchpoints: list[Touchpoint] = []
    decisions: list[RoutingDecision] = []
    attempts: list[ContactAttempt] = []
    reviews: list[DefeatReview] = []
    events: list[Event] = []
    managers = dict(User.objects.filter(role=Role.DEALER_MANAGER, dealer__isnull=False).order_by("-pk")
                    .values_list("dealer_id", "pk"))
    for plan, lead in zip(plans, leads, strict=True):
        for at, source, site, campaign in plan.touches:
            utm = {"utm_source": site, "utm_medium": source.medium, "utm_campaign": campaign} if site else {}
            touchpoints.append(Touchpoint(
                lead=lead, channel=source.channel, campaign=campaign, source_site=site,
                broker_code=lead.first_broker_code if source.channel == Channel.BROKER_LINK else "",
                utm={key: value for key, value in utm.items() if value},
                landing_page="/models/" if site else "",
                message=rng.choice(_QUESTIONS) if source.channel == Channel.WEB_QUESTION else "",
                occurred_at=at,
            ))
        decisions.extend(_decisions(plan, lead))
        for at, outcome, note in plan.attempts:
            attempts.append(ContactAttempt(lead=lead, dealer_id=lead.dealer_id, staff_id=plan.advisor_id,
                                           outcome=outcome, note=note, at=at))
        if plan.defeat and lead.dealer_id:
            reason, evidence, decision = plan.defeat
            requested = plan.milestones.get(LeadStatus.DEFEATED, min(now, plan.created_at + timedelta(days=5)))
            reviewer = managers.get(lead.dealer_id) if decision != DefeatDecision.PENDING else None
            reviews.append(DefeatReview(
                lead=lead, dealer_id=lead.dealer_id, reason=reason, evidence=evidence, requested_by_id=plan.advisor_id,
                requested_at=requested - timedelta(hours=2), decision=decision if reviewer else DefeatDecision.PENDING,
                reviewed_by_id=reviewer, reviewed_at=requested if reviewer else None,
            ))
        events.extend(_events_for(plan, lead, plan.advisor_id))
    Touchpoint.objects.bulk_create(touchpoints, batch_size=BATCH)
    RoutingDecision.objects.bulk_create(decisions, batch_size=BATCH)
    ContactAttempt.objects.bulk_create(attempts, batch_size=BATCH)
    DefeatReview.objects.bulk_create(reviews, batch_size=BATCH)
    Event.objects.bulk_create(events, batch_size=BATCH)


def _decisions(plan: _Plan, lead: Lead) -> list[RoutingDecision]:
    if lead.dealer_id is None:
        return [RoutingDecision(lead=lead, dealer=None, kind=RoutingKind.OEM_QUEUE, reason_code=plan.queue_reason,
                                reason="The person has not agreed to share their details with a dealer."
                                if plan.queue_reason == "no_consent" else
                                "No dealer contacted the person in time after 2 re-routes; the OEM follows up.",
                                decided_at=plan.created_at)]
    rows = []
    if plan.previous_dealer_id:
        rows.append(RoutingDecision(lead=lead, dealer_id=plan.previous_dealer_id, kind=RoutingKind.INITIAL,
                                    reason_code="city_nearest_balanced",
                                    reason="The least loaded of the nearest sales dealers in the city.",
                                    decided_at=plan.created_at - timedelta(hours=4),
                                    sla_deadline=plan.created_at - timedelta(hours=2)))
    kind = RoutingKind.REROUTE if plan.previous_dealer_id else RoutingKind.INITIAL
    code = "sla_lapsed" if plan.previous_dealer_id else (
        "chosen_dealer" if plan.source.channel in (Channel.WALK_IN, Channel.PHONE_CALL, Channel.TEST_DRIVE_BOOKING)
        else "city_nearest_balanced")
    reason = {
        "sla_lapsed": "The previous dealer did not contact the person in time.",
        "chosen_dealer": "The person chose this dealer.",
        "city_nearest_balanced": "The least loaded of the nearest sales dealers in the city.",
    }[code]
    rows.append(RoutingDecision(lead=lead, dealer_id=lead.dealer_id, kind=kind, reason_code=code, reason=reason,
                                decided_at=plan.created_at, sla_deadline=plan.sla_deadline))
    return rows
