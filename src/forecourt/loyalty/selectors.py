"""The loyalty app's reads: a member's ledger, points, tier and benefits. Other apps ask these.

- `member_tier(*, user, at=None) -> str` and `member_benefits(*, user, at=None) -> list[TierBenefit]`,
  `member_has_benefit(*, user, code, at=None) -> bool`: what a person's tier entitles them to.
- `points_expiry_for(moment) -> datetime`: when points earned at `moment` lapse.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from forecourt.core import clock
from forecourt.loyalty.ledger import Line, qualifying_points, tier_for
from forecourt.loyalty.models import TIER_ORDER, Member, PointsEntry, Tier, TierBenefit, TierRule


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


def member_benefits(*, user: Any, at: datetime | None = None) -> list[TierBenefit]:
    """The benefits of the person's tier."""
    return list(TierBenefit.objects.filter(tier=member_tier(user=user, at=at)))


def member_has_benefit(*, user: Any, code: str, at: datetime | None = None) -> bool:
    return TierBenefit.objects.filter(tier=member_tier(user=user, at=at), code=code).exists()
