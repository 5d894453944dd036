"""Planning the demo leads: where each comes from, how far it got, closing stale ones (no writes).

`demo_data.seed` turns these plans into rows.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from forecourt.accounts.models import User
from forecourt.core.demo_people import demo_mobile
from forecourt.leads.business_hours import add_business_minutes
from forecourt.leads.models import (
    Channel,
    ContactOutcome,
    DefeatDecision,
    DefeatReason,
    LeadStatus,
    SlaPolicy,
)

DAYS = 90
FIRST_DEALER_SHARE = 0.06
# Open leads a dealer holds after seeding, as a share of its capacity: routing must still have room.
OPEN_LOAD_TARGET = 0.7
FRESH_AT_FIRST_DEALER = 8


@dataclass(frozen=True)
class Source:
    channel: str
    weight: int
    sites: tuple[str, ...]
    campaigns: tuple[str, ...]
    medium: str


# Where leads come from, roughly as a Chinese OEM sees it: vertical car media first, then live streams.
SOURCES: tuple[Source, ...] = (
    Source(
        Channel.WEB_PRICE_INQUIRY,
        34,
        ("autohome", "dongchedi", "yiche", "official_site"),
        ("double11-2026", "q4-price-drop", "autumn-auto-show", ""),
        "cpc",
    ),
    Source(
        Channel.LIVE_STREAM,
        14,
        ("douyin", "kuaishou", "wechat_channels"),
        ("launch-live-2026", "weekend-live", "designer-live"),
        "live",
    ),
    Source(
        Channel.WEB_TEST_DRIVE,
        12,
        ("official_site", "wechat_mini_program", "dongchedi"),
        ("test-drive-week", ""),
        "organic",
    ),
    Source(Channel.WEB_QUESTION, 8, ("official_site", "wechat_mini_program"), ("", "faq"), "organic"),
    Source(Channel.BROKER_LINK, 9, ("wechat", "xiaohongshu"), ("owner-referral", "friends-ride"), "referral"),
    Source(Channel.PARTNER_IMPORT, 8, ("autohome", "yiche", "dongchedi"), ("partner-feed",), "partner"),
    Source(Channel.WALK_IN, 7, ("",), ("",), ""),
    Source(Channel.PHONE_CALL, 4, ("",), ("",), ""),
    Source(Channel.TEST_DRIVE_BOOKING, 4, ("official_site",), ("test-drive-week",), "organic"),
)
CALL_NOTES = [
    "客户在比较竞品，约周末到店",
    "关心续航和充电桩安装",
    "想了解金融方案，首付三成",
    "预算三十万以内",
    "家里第二台车，重视空间",
    "已加微信，发送了配置单",
    "客户在外地出差，下周再联系",
    "对白色外观感兴趣",
    "希望试驾长续航版",
    "询问置换补贴政策",
    "",
]
EVIDENCE = [
    "连续三天拨打均未接通，短信也未回复。",
    "客户表示已在其他品牌4S店下定。",
    "客户称预算不足，暂缓购车。",
    "客户明确表示半年内不考虑购车。",
    "号码为空号，核实后无效。",
]
QUESTIONS = ["有现车吗？", "保养费用大概多少？", "冬天续航打几折？", "可以上门试驾吗？", ""]


@dataclass
class LeadPlan:
    """One demo lead, decided before any row is written."""

    person: User
    model_id: int
    city_id: int | None
    dealer_id: int | None
    status: str
    created_at: datetime
    source: Source
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
    touches: list[tuple[datetime, Source, str, str]] = field(default_factory=list)
    previous_dealer_id: int | None = None
    queue_reason: str = ""
    defeat: tuple[str, str, str] | None = None  # (reason, evidence, decision)
    next_follow_up_at: datetime | None = None


def demo_phone(rng: random.Random) -> str:
    # Never the demo consumer's number: that person signs in and has no demo leads.
    return demo_mobile(rng)


def inquiry_moment(rng: random.Random, now: datetime, tz: Any) -> datetime:
    # More recent days are busier (the campaign is ramping up); most inquiries come 9:00–22:00.
    days_ago = min(DAYS - 1, int(rng.expovariate(1 / 28)))
    day = (now - timedelta(days=days_ago)).astimezone(tz).date()
    hour = rng.choices(
        range(24), weights=[1, 1, 1, 1, 1, 1, 2, 4, 6, 9, 11, 11, 10, 9, 10, 11, 11, 10, 9, 11, 12, 11, 7, 3]
    )[0]
    moment = datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=tz)
    return min(moment, now - timedelta(minutes=rng.randint(2, 90)))


def weighted_dealer(rng: random.Random, first: Any, others: list[Any]) -> Any:
    return first if rng.random() < FIRST_DEALER_SHARE or not others else rng.choice(others)


def plan_pipeline(
    rng: random.Random, plan: LeadPlan, now: datetime, policy: SlaPolicy, advisors: list[int]
) -> None:
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
        outcome = (
            ContactOutcome.REACHED
            if (reached and last)
            else rng.choice(
                [ContactOutcome.NO_ANSWER, ContactOutcome.BUSY, ContactOutcome.CALLBACK_REQUESTED]
            )
        )
        plan.attempts.append((at, outcome, rng.choice(CALL_NOTES)))
    plan.status = LeadStatus.CONTACTED if reached else LeadStatus.ASSIGNED
    cursor = plan.attempts[-1][0]
    for step, chance in (
        (LeadStatus.VISIT_BOOKED, 0.42),
        (LeadStatus.VISITED, 0.72),
        (LeadStatus.TEST_DRIVEN, 0.78),
        (LeadStatus.WON, 0.32),
    ):
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
            decision = (
                DefeatDecision.APPROVED
                if roll < approved
                else (DefeatDecision.PENDING if roll < approved + 0.03 else DefeatDecision.REJECTED)
            )
            plan.defeat = (reason, rng.choice(EVIDENCE), decision)
            if decision == DefeatDecision.APPROVED:
                plan.status = LeadStatus.DEFEATED
                plan.milestones[LeadStatus.DEFEATED] = min(now, cursor + timedelta(days=rng.randint(1, 5)))
    if plan.status not in (LeadStatus.WON, LeadStatus.DEFEATED):
        plan.next_follow_up_at = now + timedelta(hours=rng.randint(-30, 120))


def plan_fresh_for_first_dealer(
    rng: random.Random,
    first: Any,
    people: list[User],
    sharing_ids: set[int],
    pairs: set[tuple[int, int]],
    models: list[Any],
    now: datetime,
    policy: SlaPolicy,
    advisors: list[int],
) -> list[LeadPlan]:
    """A few inquiries of the last hours at the demo dealer: countdowns running, some already overdue."""
    calendar = policy.calendar()
    minutes = policy.first_contact_business_minutes
    plans = []
    for index in range(FRESH_AT_FIRST_DEALER):
        # One open lead per person and model: draw again until the pair is new, so the demo dealer
        # always gets all its fresh inquiries whatever the random draw.
        candidates = [p for p in people if p.pk in sharing_ids]
        for _attempt in range(200):
            person, model = rng.choice(candidates), rng.choice(models)
            if (person.pk, model.pk) not in pairs:
                break
        else:
            continue
        pairs.add((person.pk, model.pk))
        source = rng.choices(SOURCES[:5], weights=[s.weight for s in SOURCES[:5]])[0]
        created = now - timedelta(minutes=15 + index * rng.randint(20, 45))
        plan = LeadPlan(
            person=person,
            model_id=model.pk,
            city_id=first.city_id,
            dealer_id=first.pk,
            status=LeadStatus.NEW,
            created_at=created,
            source=source,
            site=rng.choice(source.sites),
            campaign=rng.choice(source.campaigns),
        )
        plan.sla_deadline = add_business_minutes(created, minutes, calendar)
        plan.reroute_at = add_business_minutes(created, 2 * minutes, calendar)
        if advisors and index % 3 == 1:
            plan.status, plan.advisor_id, plan.claimed_at = LeadStatus.ASSIGNED, rng.choice(advisors), created
        if plan.sla_deadline <= now:
            plan.escalated_at = plan.sla_deadline
        plans.append(plan)
    return plans


def close_stale(rng: random.Random, plans: list[LeadPlan], capacity: dict[int, int], now: datetime) -> None:
    """Close each dealer's oldest open leads (won after a test drive, else defeated) down to the target load.

    Real dealers close stale leads; without this the demo network would be over capacity and
    routing would send every new inquiry to the OEM queue.
    """
    by_dealer: dict[int, list[LeadPlan]] = {}
    for plan in plans:
        if plan.dealer_id is not None and plan.status not in (LeadStatus.WON, LeadStatus.DEFEATED):
            by_dealer.setdefault(plan.dealer_id, []).append(plan)
    for dealer_id, open_plans in by_dealer.items():
        excess = len(open_plans) - int(capacity.get(dealer_id, 0) * OPEN_LOAD_TARGET)
        for plan in sorted(open_plans, key=lambda p: p.created_at)[: max(0, excess)]:
            if not plan.attempts:
                continue
            closed_at = min(
                now - timedelta(hours=1), plan.attempts[-1][0] + timedelta(days=rng.randint(2, 12))
            )
            if plan.status == LeadStatus.TEST_DRIVEN and rng.random() < 0.5:
                plan.status = LeadStatus.WON
                plan.milestones[LeadStatus.WON] = max(closed_at, plan.milestones[LeadStatus.TEST_DRIVEN])
            else:
                plan.defeat = (
                    rng.choice(DefeatReason.values[:-1]),
                    rng.choice(EVIDENCE),
                    DefeatDecision.APPROVED,
                )
                plan.status = LeadStatus.DEFEATED
                plan.milestones[LeadStatus.DEFEATED] = max([closed_at, *plan.milestones.values()])
            plan.next_follow_up_at = None
