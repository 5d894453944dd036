"""Honours, read: a broker's results, their level, their badges, and the leaderboards per city and month.

Results are what a broker's referrals achieved: a store visit (the referral qualified) counts 1, a car
delivered counts SALE_WEIGHT. The level follows the total score over all time (a returned car stops
counting); a month's leaderboard ranks the brokers of one city by the score of that month alone.
Rejected referrals (fraud rules, ops) never count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from forecourt.core.clock import now
from forecourt.dealers.models import City
from forecourt.referrals.models import (
    Broker,
    BrokerBadge,
    BrokerStatus,
    Commission,
    CommissionStatus,
    Referral,
    Stage,
)
from forecourt.referrals.periods import month_bounds, month_label

SALE_WEIGHT = 5
SOLD_STAGES = (Stage.DELIVERED, Stage.CONVERTED)
# A month's top broker of a city earns a badge named for the month ("city-top-2026-11").
MONTHLY_TOP_PREFIX = "city-top-"


@dataclass(frozen=True)
class Level:
    code: str
    label: str | Promise
    min_score: int


LEVELS: tuple[Level, ...] = (
    Level("newcomer", _("Newcomer"), 0),
    Level("bronze", _("Bronze broker"), 3),
    Level("silver", _("Silver broker"), 10),
    Level("gold", _("Gold broker"), 30),
    Level("diamond", _("Diamond broker"), 100),
)


@dataclass(frozen=True)
class BrokerResults:
    referred: int = 0
    qualified: int = 0
    sold: int = 0
    # Sales whose return window has passed: a confirmed sale (what the sale badges ask for).
    confirmed_sales: int = 0
    task_results: int = 0

    @property
    def score(self) -> int:
        return self.qualified + SALE_WEIGHT * self.sold


def level_for(score: int) -> Level:
    """The highest level whose threshold `score` reaches (pure)."""
    reached = LEVELS[0]
    for level in LEVELS:
        if score >= level.min_score:
            reached = level
    return reached


@dataclass(frozen=True)
class LevelProgress:
    level: Level
    next_level: Level | None
    score: int

    @property
    def to_next(self) -> int:
        return 0 if self.next_level is None else self.next_level.min_score - self.score

    @property
    def percent(self) -> int:
        """How far from this level's threshold to the next one, 0–100 (100 at the top level)."""
        if self.next_level is None:
            return 100
        span = self.next_level.min_score - self.level.min_score
        return min(100, max(0, (self.score - self.level.min_score) * 100 // span))


def level_progress(score: int) -> LevelProgress:
    level = level_for(score)
    index = LEVELS.index(level)
    following = LEVELS[index + 1] if index + 1 < len(LEVELS) else None
    return LevelProgress(level=level, next_level=following, score=score)


@dataclass(frozen=True)
class BadgeRule:
    code: str
    label: str | Promise
    description: str | Promise
    # (field of BrokerResults, at least)
    field: str
    threshold: int


BADGE_RULES: tuple[BadgeRule, ...] = (
    BadgeRule("first-referral", _("First referral"), _("A friend came through your link."), "referred", 1),
    BadgeRule("first-visit", _("First visit"), _("A friend you referred visited a store."), "qualified", 1),
    BadgeRule("ten-visits", _("Ten visits"), _("Ten friends you referred visited a store."), "qualified", 10),
    BadgeRule("first-sale", _("First sale"), _("A friend you referred bought a car."), "confirmed_sales", 1),
    BadgeRule(
        "five-sales", _("Five sales"), _("Five friends you referred bought a car."), "confirmed_sales", 5
    ),
    BadgeRule("task-pioneer", _("Task pioneer"), _("Your first result on an OEM task."), "task_results", 1),
)
_RULES_BY_CODE = {rule.code: rule for rule in BADGE_RULES}


def badges_due(results: BrokerResults) -> list[str]:
    """The badge codes `results` have earned (pure; the monthly top badges are awarded apart)."""
    return [rule.code for rule in BADGE_RULES if getattr(results, rule.field) >= rule.threshold]


def monthly_top_code(month: date) -> str:
    return f"{MONTHLY_TOP_PREFIX}{month_label(month)}"


def broker_results(broker: Broker, *, at: datetime | None = None) -> BrokerResults:
    """What the broker's referrals have achieved so far."""
    moment = at or now()
    confirmed_before = moment - timedelta(days=settings.REFERRALS_RETURN_WINDOW_DAYS)
    counts = (
        Referral.objects.filter(broker=broker)
        .exclude(stage=Stage.REJECTED)
        .aggregate(
            referred=Count("id"),
            qualified=Count("id", filter=Q(qualified_at__isnull=False)),
            sold=Count("id", filter=Q(stage__in=SOLD_STAGES)),
            confirmed=Count(
                "id",
                filter=Q(stage=Stage.CONVERTED)
                | Q(stage=Stage.DELIVERED, delivered_at__lte=confirmed_before),
            ),
        )
    )
    task_results = (
        Commission.objects.filter(broker=broker, task__isnull=False)
        .exclude(status__in=[CommissionStatus.CLAWED_BACK, CommissionStatus.REJECTED])
        .count()
    )
    return BrokerResults(
        referred=counts["referred"] or 0,
        qualified=counts["qualified"] or 0,
        sold=counts["sold"] or 0,
        confirmed_sales=counts["confirmed"] or 0,
        task_results=task_results,
    )


@dataclass(frozen=True)
class BadgeView:
    code: str
    label: str | Promise
    description: str | Promise
    earned_at: datetime | None
    detail: str = ""

    @property
    def is_earned(self) -> bool:
        return self.earned_at is not None


def _badge_text(code: str) -> tuple[str | Promise, str | Promise]:
    rule = _RULES_BY_CODE.get(code)
    if rule is not None:
        return rule.label, rule.description
    if code.startswith(MONTHLY_TOP_PREFIX):
        return _("City champion of the month"), _("Top of your city's leaderboard for a month.")
    return code, ""


def broker_badges(broker: Broker) -> list[BadgeView]:
    """Every badge rule (earned or still to earn), then the monthly titles the broker has won."""
    earned = {badge.code: badge for badge in BrokerBadge.objects.filter(broker=broker)}
    views = []
    for rule in BADGE_RULES:
        badge = earned.get(rule.code)
        views.append(
            BadgeView(
                code=rule.code,
                label=rule.label,
                description=rule.description,
                earned_at=badge.earned_at if badge else None,
                detail=badge.detail if badge else "",
            )
        )
    for code, badge in sorted(earned.items(), key=lambda item: item[1].earned_at):
        if code in _RULES_BY_CODE:
            continue
        label, description = _badge_text(code)
        views.append(
            BadgeView(
                code=code,
                label=label,
                description=description,
                earned_at=badge.earned_at,
                detail=badge.detail,
            )
        )
    return views


def name_masked(name: str) -> str:
    """A person as another sees them (a broker on a leaderboard, a friend on the broker's pages and
    statement): the name's first character, then stars — 车主经纪人 林浩 → 林*, 欧阳娜娜 → 欧**."""
    words = str(name or "").split()
    person = words[-1] if words else ""
    if not person:
        return "***"
    return person[0] + "*" * max(1, min(len(person) - 1, 2))


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    broker_id: int
    name: str
    qualified: int
    sold: int

    @property
    def score(self) -> int:
        return self.qualified + SALE_WEIGHT * self.sold


def leaderboard(*, month: date, city: City | None = None, limit: int | None = 50) -> list[LeaderboardRow]:
    """The month's ranking of the city's active brokers (every city when `city` is None): by score, then
    sales, then visits; equal results share a rank. Names are masked."""
    start, end = month_bounds(month)
    referrals = Referral.objects.filter(broker__status=BrokerStatus.ACTIVE).exclude(stage=Stage.REJECTED)
    if city is not None:
        referrals = referrals.filter(broker__city=city)
    rows = list(
        referrals.values("broker_id")
        .annotate(
            qualified=Count("id", filter=Q(qualified_at__gte=start, qualified_at__lt=end)),
            sold=Count("id", filter=Q(stage__in=SOLD_STAGES, delivered_at__gte=start, delivered_at__lt=end)),
        )
        .filter(Q(qualified__gt=0) | Q(sold__gt=0))
        .values_list("broker_id", "qualified", "sold")
    )
    rows.sort(key=lambda row: (-(row[1] + SALE_WEIGHT * row[2]), -row[2], -row[1], row[0]))
    names = dict(
        Broker.objects.filter(pk__in=[row[0] for row in rows]).values_list("pk", "user__display_name")
    )
    ranked: list[LeaderboardRow] = []
    previous: tuple[int, int, int] | None = None
    rank = 0
    for position, (broker_id, qualified, sold) in enumerate(rows, start=1):
        standing = (qualified + SALE_WEIGHT * sold, sold, qualified)
        if standing != previous:
            rank = position
            previous = standing
        ranked.append(
            LeaderboardRow(
                rank=rank,
                broker_id=broker_id,
                name=name_masked(names.get(broker_id) or ""),
                qualified=qualified,
                sold=sold,
            )
        )
    return ranked if limit is None else ranked[:limit]


def leaderboard_cities() -> list[City]:
    """Cities that have at least one active broker, for the leaderboard's city picker."""
    return list(
        City.objects.filter(
            pk__in=Broker.objects.filter(status=BrokerStatus.ACTIVE).values("city_id")
        ).order_by("code")
    )
