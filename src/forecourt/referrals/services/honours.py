"""Honours, written: badges awarded once (a unique constraint per broker and badge), and each finished
month's city champions.

`badges_award` is called by the programme's subscribers when a referral moves or a task result is
counted; it may run any number of times (a replayed event, two events at once) and awards each badge
once. `leaderboard_month_close` crowns the top broker of each city for a finished month, once.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import IntegrityError, transaction

from forecourt.core.clock import now
from forecourt.core.events import event_record
from forecourt.referrals.honours_selectors import (
    badges_due,
    broker_results,
    leaderboard,
    leaderboard_cities,
    monthly_top_code,
)
from forecourt.referrals.models import Broker, BrokerBadge
from forecourt.referrals.periods import month_before, month_bounds, month_first, month_label


def _award(*, broker: Broker, code: str, at: datetime, detail: str = "") -> BrokerBadge | None:
    """Create the badge unless the broker has it; None when they had it already."""
    if BrokerBadge.objects.filter(broker=broker, code=code).exists():
        return None
    try:
        with transaction.atomic():
            badge = BrokerBadge.objects.create(broker=broker, code=code, earned_at=at, detail=detail[:120])
            event_record(
                "broker.badge_awarded",
                subject_type="broker",
                subject_id=broker.code,
                actor=None,
                payload={
                    "broker": broker.user.public_id,
                    "broker_code": broker.code,
                    "badge": code,
                    "detail": badge.detail,
                },
            )
    except IntegrityError:
        # Awarded at the same moment by another event's subscriber: once is enough.
        return None
    return badge


def badges_award(*, broker: Broker, at: datetime | None = None) -> list[BrokerBadge]:
    """Award the badges the broker's results have earned and they do not hold yet; returns the new ones."""
    moment = at or now()
    results = broker_results(broker, at=moment)
    held = set(BrokerBadge.objects.filter(broker=broker).values_list("code", flat=True))
    awarded = []
    for code in badges_due(results):
        if code in held:
            continue
        badge = _award(broker=broker, code=code, at=moment)
        if badge is not None:
            awarded.append(badge)
    return awarded


def leaderboard_month_close(*, month: date | datetime | str, at: datetime | None = None) -> list[BrokerBadge]:
    """Crown each city's top broker(s) of a finished month (ties share the title); idempotent."""
    first = month_first(month)
    moment = at or now()
    _start, end = month_bounds(first)
    if end > moment:
        return []
    awarded = []
    code = monthly_top_code(first)
    for city in leaderboard_cities():
        rows = leaderboard(month=first, city=city, limit=None)
        for row in rows:
            if row.rank != 1:
                break
            broker = Broker.objects.select_related("user").get(pk=row.broker_id)
            badge = _award(broker=broker, code=code, at=moment, detail=f"{city.name} {month_label(first)}")
            if badge is not None:
                awarded.append(badge)
    return awarded


def leaderboards_close_due(*, at: datetime | None = None) -> int:
    """Sweeper: crown last month's city champions (idempotent); returns how many titles were awarded."""
    moment = at or now()
    return len(leaderboard_month_close(month=month_before(month_first(moment)), at=moment))
