"""Dealer and advisor KPIs for a period (reads only).

Definitions, for leads a dealer *received* in the period (routing decisions that gave it the lead,
first routing or re-route, dated in the period, Asia/Shanghai days):
- contacted within SLA (%): of the received leads whose outcome is known (contacted, or past the
  deadline), the share first contacted by this dealer by the deadline it was given. A lead re-routed
  away was, by definition, not.
- median minutes to first contact: business minutes (the SLA's clock) from receipt to the first
  logged contact attempt, over the leads this dealer contacted.
- visit / test-drive / defeat rate: share of the received leads, still with this dealer, that reached
  visited / test driven / defeated.
Per advisor: the same over the received leads the advisor now holds.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from forecourt.accounts.models import User
from forecourt.core.clock import SHANGHAI
from forecourt.leads.business_hours import BusinessCalendar, business_minutes_between
from forecourt.leads.models import LeadStatus, RoutingDecision, RoutingKind
from forecourt.leads.selectors import sla_policy_current


@dataclass
class KpiRow:
    label: str
    key: str
    leads_received: int = 0
    sla_decided: int = 0
    contacted_within_sla: int = 0
    visited: int = 0
    test_driven: int = 0
    defeated: int = 0
    minutes_to_contact: list[float] = field(default_factory=list)

    @property
    def contacted_within_sla_pct(self) -> float | None:
        return _pct(self.contacted_within_sla, self.sla_decided)

    @property
    def median_minutes_to_first_contact(self) -> float | None:
        return round(statistics.median(self.minutes_to_contact), 1) if self.minutes_to_contact else None

    @property
    def visit_rate(self) -> float | None:
        return _pct(self.visited, self.leads_received)

    @property
    def test_drive_rate(self) -> float | None:
        return _pct(self.test_driven, self.leads_received)

    @property
    def defeat_rate(self) -> float | None:
        return _pct(self.defeated, self.leads_received)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "leads_received": self.leads_received,
            "contacted_within_sla_pct": self.contacted_within_sla_pct,
            "median_minutes_to_first_contact": self.median_minutes_to_first_contact,
            "visit_rate": self.visit_rate,
            "test_drive_rate": self.test_drive_rate,
            "defeat_rate": self.defeat_rate,
        }


@dataclass
class KpiReport:
    start: date
    end: date
    dealer: KpiRow
    advisors: list[KpiRow]
    daily: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "dealer": self.dealer.as_dict(),
            "advisors": [row.as_dict() for row in self.advisors],
            "daily": self.daily,
        }


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in Shanghai: both days are included."""
    return (
        datetime.combine(start, time.min, tzinfo=SHANGHAI),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=SHANGHAI),
    )


def _count(
    row: KpiRow, record: Mapping[str, Any], *, dealer_id: int, now: datetime, calendar: BusinessCalendar
) -> None:
    row.leads_received += 1
    still_here = record["lead__dealer_id"] == dealer_id
    contacted_at = record["lead__first_contacted_at"] if still_here else None
    deadline = record["sla_deadline"]
    if contacted_at is not None:
        row.sla_decided += 1
        row.contacted_within_sla += int(deadline is None or contacted_at <= deadline)
        row.minutes_to_contact.append(business_minutes_between(record["decided_at"], contacted_at, calendar))
    elif not still_here or (deadline is not None and deadline <= now):
        row.sla_decided += 1
    if still_here:
        row.visited += int(record["lead__visited_at"] is not None)
        row.test_driven += int(record["lead__test_driven_at"] is not None)
        row.defeated += int(record["lead__status"] == LeadStatus.DEFEATED)


def dealer_kpi_report(*, dealer: Any, start: date, end: date, now: datetime) -> KpiReport:
    """The KPI panel of one dealer and its advisors for the days start..end (both included)."""
    calendar = sla_policy_current().calendar()
    lower, upper = period_bounds(start, end)
    records = (
        RoutingDecision.objects.filter(
            dealer_id=dealer.pk,
            kind__in=[RoutingKind.INITIAL, RoutingKind.REROUTE],
            decided_at__gte=lower,
            decided_at__lt=upper,
        )
        .values(
            "decided_at",
            "sla_deadline",
            "lead__dealer_id",
            "lead__advisor_id",
            "lead__first_contacted_at",
            "lead__visited_at",
            "lead__test_driven_at",
            "lead__status",
        )
        .order_by("decided_at")
    )
    total = KpiRow(label=dealer.name, key=dealer.public_id)
    by_advisor: dict[int, KpiRow] = {}
    advisors = {
        user.pk: user
        for user in User.objects.filter(dealer_id=dealer.pk, role__in=["sales_advisor", "dealer_manager"])
    }
    days: dict[date, dict[str, int]] = defaultdict(
        lambda: {"received": 0, "contacted_within_sla": 0, "visited": 0}
    )
    for record in records.iterator(chunk_size=2000):
        _count(total, record, dealer_id=dealer.pk, now=now, calendar=calendar)
        day = days[record["decided_at"].astimezone(SHANGHAI).date()]
        day["received"] += 1
        still_here = record["lead__dealer_id"] == dealer.pk
        contacted_at = record["lead__first_contacted_at"] if still_here else None
        if contacted_at is not None and (
            record["sla_deadline"] is None or contacted_at <= record["sla_deadline"]
        ):
            day["contacted_within_sla"] += 1
        if still_here and record["lead__visited_at"] is not None:
            day["visited"] += 1
        advisor_id = record["lead__advisor_id"] if still_here else None
        if advisor_id in advisors:
            user = advisors[advisor_id]
            row = by_advisor.setdefault(
                advisor_id, KpiRow(label=user.display_name or user.username, key=user.public_id)
            )
            _count(row, record, dealer_id=dealer.pk, now=now, calendar=calendar)
    daily = []
    cursor = start
    while cursor <= end:
        daily.append(
            {
                "date": cursor.isoformat(),
                **days.get(cursor, {"received": 0, "contacted_within_sla": 0, "visited": 0}),
            }
        )
        cursor += timedelta(days=1)
    return KpiReport(
        start=start,
        end=end,
        dealer=total,
        advisors=sorted(by_advisor.values(), key=lambda row: (-row.leads_received, row.label)),
        daily=daily,
    )
