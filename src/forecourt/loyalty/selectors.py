"""The loyalty app's reads: a member's ledger, points, tier and benefits. Other apps ask these.

- `member_tier(*, user, at=None) -> str` and `member_benefits(*, user, at=None) -> list[TierBenefit]`,
  `member_has_benefit(*, user, code, at=None) -> bool`: what a person's tier entitles them to;
  `tier_benefits(tier)` one tier's benefits.
- `points_expiry_for(moment) -> datetime`: when points earned at `moment` lapse.
- `member_tier_progress(member, at=None) -> TierProgress`: the tier, its qualifying points and what the next
  tier needs; `tier_table()` every tier with its threshold and benefits.
- `earn_rule_active(source) -> EarnRule | None`, `member_of(user)`, `member_by_number(number)`,
  `member_entries(member)` (newest first), `member_is_eligible(user)` (consumers and brokers are members).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from forecourt.core import clock
from forecourt.loyalty.ledger import Line, qualifying_points, tier_for
from forecourt.loyalty.models import (
    TIER_ORDER,
    EarnRule,
    Member,
    PointsEntry,
    Tier,
    TierBenefit,
    TierRule,
)

# Who the club is for: people, not staff or partners (a broker is a person who refers others).
MEMBER_ROLES = frozenset({"consumer", "broker"})


def points_expiry_for(moment: datetime) -> datetime:
    """Points lapse at the end of the year after the one they were earned in (Shanghai time)."""
    local = moment.astimezone(clock.SHANGHAI)
    return datetime(local.year + 2, 1, 1, tzinfo=clock.SHANGHAI)


def ledger_lines(member: Member) -> list[Line]:
    """Every entry of the member's ledger, in the shape the replay reads."""
    rows = PointsEntry.objects.filter(member=member).values_list(
        "id",
        "kind",
        "points",
        "occurred_at",
        "available_at",
        "expires_at",
        "reverses_id",
        "lot_id",
        "qualifying",
    )
    return [Line(*row) for row in rows]


def tier_thresholds() -> list[tuple[str, int]]:
    """(tier, qualifying points needed), lowest first: the ops-set rules, else the settings' defaults."""
    rules = dict(TierRule.objects.values_list("tier", "min_points"))
    defaults = settings.LOYALTY_TIER_POINTS
    return [(tier, rules.get(tier, defaults[tier])) for tier in TIER_ORDER]


def member_qualifying_points(member: Member, at: datetime | None = None) -> int:
    moment = at or clock.now()
    since = moment - timedelta(days=settings.LOYALTY_TIER_WINDOW_DAYS)
    return qualifying_points(ledger_lines(member), since=since, at=moment)


def _member_of(user: Any) -> Member | None:
    if user is None or not getattr(user, "pk", None):
        return None
    return Member.objects.filter(user_id=user.pk).first()


def member_tier(*, user: Any, at: datetime | None = None) -> str:
    """The person's tier now: computed from qualifying points over the rolling window, never stored."""
    member = _member_of(user)
    if member is None:
        return str(Tier.STANDARD)
    return tier_for(member_qualifying_points(member, at), tier_thresholds())


def tier_benefits(tier: str) -> list[TierBenefit]:
    """The benefits of one tier, in their order."""
    return list(TierBenefit.objects.filter(tier=tier))


def member_benefits(*, user: Any, at: datetime | None = None) -> list[TierBenefit]:
    """The benefits of the person's tier."""
    return tier_benefits(member_tier(user=user, at=at))


def member_has_benefit(*, user: Any, code: str, at: datetime | None = None) -> bool:
    return TierBenefit.objects.filter(tier=member_tier(user=user, at=at), code=code).exists()


def member_is_eligible(user: Any) -> bool:
    """Consumers and brokers are members; staff, ops and partners are not."""
    return (
        user is not None
        and bool(getattr(user, "pk", None))
        and bool(getattr(user, "is_active", True))
        and getattr(user, "role", None) in MEMBER_ROLES
    )


def member_of(user: Any) -> Member | None:
    """The person's member row if they have one (it is made on first need by `services.member_for`)."""
    return _member_of(user)


def member_by_number(number: str) -> Member | None:
    return Member.objects.filter(number=number).select_related("user").first()


def member_entries(member: Member) -> QuerySet[PointsEntry]:
    """The member's ledger, newest first (what the member reads; the replay reads `ledger_lines`)."""
    return (
        PointsEntry.objects.filter(member=member).select_related("reverses").order_by("-occurred_at", "-id")
    )


def earn_rule_active(source: str) -> EarnRule | None:
    """The one active earn rule of a source (a constraint keeps it one), or None when ops switched it off."""
    return EarnRule.objects.filter(source=source, is_active=True).first()


def tier_label(tier: str) -> str:
    return str(Tier(tier).label) if tier in Tier.values else tier


@dataclass(frozen=True)
class TierProgress:
    tier: str
    # Qualifying points earned in the rolling window (and not reversed).
    points: int
    window_days: int
    next_tier: str | None
    next_min_points: int | None

    @property
    def label(self) -> str:
        return tier_label(self.tier)

    @property
    def next_label(self) -> str:
        return tier_label(self.next_tier) if self.next_tier else ""

    @property
    def points_to_next(self) -> int:
        return max(0, (self.next_min_points or 0) - self.points) if self.next_tier else 0

    @property
    def percent(self) -> int:
        """How far along the way from this tier's threshold to the next one (100 at the top tier)."""
        if self.next_min_points is None:
            return 100
        thresholds = dict(tier_thresholds())
        floor = thresholds.get(self.tier, 0)
        span = max(self.next_min_points - floor, 1)
        return max(0, min(100, (self.points - floor) * 100 // span))


def member_tier_progress(member: Member | None, at: datetime | None = None) -> TierProgress:
    """The member's tier now, the qualifying points behind it and what the next tier needs."""
    thresholds = tier_thresholds()
    points = member_qualifying_points(member, at) if member is not None else 0
    tier = tier_for(points, thresholds)
    ranked = sorted(thresholds, key=lambda pair: pair[1])
    higher = [(name, minimum) for name, minimum in ranked if minimum > points]
    next_tier, next_min = higher[0] if higher else (None, None)
    return TierProgress(
        tier=tier,
        points=points,
        window_days=settings.LOYALTY_TIER_WINDOW_DAYS,
        next_tier=next_tier,
        next_min_points=next_min,
    )


@dataclass(frozen=True)
class TierRow:
    tier: str
    label: str
    min_points: int
    benefits: list[TierBenefit]


def tier_table() -> list[TierRow]:
    """Every tier, lowest first, with the qualifying points it needs and its benefits."""
    benefits: dict[str, list[TierBenefit]] = {tier: [] for tier in TIER_ORDER}
    for benefit in TierBenefit.objects.all():
        benefits.setdefault(benefit.tier, []).append(benefit)
    return [
        TierRow(tier=tier, label=tier_label(tier), min_points=minimum, benefits=benefits.get(tier, []))
        for tier, minimum in sorted(tier_thresholds(), key=lambda pair: pair[1])
    ]
