"""Business-hours arithmetic for the follow-up SLA: pure functions, no database, no clock.

A business calendar is one opening window per working day (e.g. 08:30–21:00) in one time zone, on
chosen weekdays, minus closed dates (public holidays). Minutes outside the windows do not count:
a lead created at 20:30 with a 120-minute SLA has 30 minutes that evening and 90 the next morning,
so its deadline is 10:00 the next working day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A calendar with no working day at all would loop forever; a year of closed days is the longest gap
# any real calendar has, so searching further means the calendar is broken.
_MAX_DAYS_SEARCHED = 400


@dataclass(frozen=True)
class BusinessCalendar:
    day_start: time
    day_end: time
    # Python weekday numbers: Monday is 0, Sunday is 6.
    working_weekdays: frozenset[int] = frozenset(range(7))
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    closed_dates: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if self.day_end <= self.day_start:
            raise ValueError(
                "the business day must end after it starts (overnight windows are not supported)"
            )
        if not self.working_weekdays or not self.working_weekdays <= set(range(7)):
            raise ValueError("working_weekdays must be a non-empty set of weekday numbers 0–6")

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.working_weekdays and day not in self.closed_dates

    def window(self, day: date) -> tuple[datetime, datetime]:
        """The opening window of `day` as aware datetimes in the calendar's zone."""
        return (
            datetime.combine(day, self.day_start, tzinfo=self.tz),
            datetime.combine(day, self.day_end, tzinfo=self.tz),
        )


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("business-hours arithmetic needs aware datetimes")


def add_business_minutes(start: datetime, minutes: int, calendar: BusinessCalendar) -> datetime:
    """The moment `minutes` business minutes after `start` (aware, in the calendar's zone).

    Zero minutes from a moment outside business hours is the next opening: the clock only runs
    while the dealer is open.
    """
    _require_aware(start)
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    remaining = timedelta(minutes=minutes)
    cursor = start.astimezone(calendar.tz)
    day = cursor.date()
    for _ in range(_MAX_DAYS_SEARCHED + minutes):
        if calendar.is_working_day(day):
            opens, closes = calendar.window(day)
            cursor = max(cursor, opens)
            if cursor < closes:
                available = closes - cursor
                if remaining <= available:
                    return cursor + remaining
                remaining -= available
        day += timedelta(days=1)
        cursor = datetime.combine(day, time.min, tzinfo=calendar.tz)
    raise ValueError("the calendar has no business hours within the search horizon")


def business_minutes_between(start: datetime, end: datetime, calendar: BusinessCalendar) -> float:
    """Business minutes in [start, end); negative when `end` is before `start`."""
    _require_aware(start)
    _require_aware(end)
    if end < start:
        return -business_minutes_between(end, start, calendar)
    first = start.astimezone(calendar.tz)
    last = end.astimezone(calendar.tz)
    total = timedelta()
    day = first.date()
    while day <= last.date():
        if calendar.is_working_day(day):
            opens, closes = calendar.window(day)
            overlap = min(closes, last) - max(opens, first)
            if overlap > timedelta():
                total += overlap
        day += timedelta(days=1)
    return total.total_seconds() / 60
