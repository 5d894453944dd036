"""How a dealer's opening hours, demo cars and advisors become bookable slots (pure rules, no writes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from forecourt.appointments.models import AppointmentKind, SlotTemplate
from forecourt.core import clock
from forecourt.dealers.models import Dealer

# A test drive needs a car and an advisor for an hour (briefing, drive, talk); a visit is shorter.
DEFAULT_SLOT_MINUTES = {AppointmentKind.TEST_DRIVE: 60, AppointmentKind.VISIT: 30}
# A store with no advisors on record yet still receives visitors: assume a small team.
DEFAULT_ADVISORS = 2
# Bookings open this many days ahead (today counts as day 0).
BOOKING_HORIZON_DAYS = 30
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class SlotRule:
    minutes: int
    capacity: int


def _advisor_count(dealer: Dealer) -> int:
    from forecourt.accounts.models import Role

    staff = getattr(dealer, "staff", None)
    if staff is None:
        return DEFAULT_ADVISORS
    count = staff.filter(role=Role.SALES_ADVISOR, is_active=True).count()
    return count or DEFAULT_ADVISORS


def slot_rule(dealer: Dealer, kind: str) -> SlotRule:
    """Slot length and places per slot for one dealer and kind.

    Test drives: one car and one advisor each, so min(demo cars, advisors); a test-drive store with no
    demo car on record is assumed to have one. Visits: one advisor each.
    """
    template = SlotTemplate.objects.filter(dealer=dealer, kind=kind).first()
    minutes = template.slot_minutes if template else DEFAULT_SLOT_MINUTES[AppointmentKind(kind)]
    if template and template.capacity is not None:
        return SlotRule(minutes=minutes, capacity=template.capacity)
    advisors = _advisor_count(dealer)
    if kind == AppointmentKind.TEST_DRIVE:
        cars = getattr(dealer, "demo_car_count", 0) or 1
        return SlotRule(minutes=minutes, capacity=min(cars, advisors))
    return SlotRule(minutes=minutes, capacity=advisors)


def slot_minutes(dealer: Dealer, kind: str) -> int:
    template = SlotTemplate.objects.filter(dealer=dealer, kind=kind).only("slot_minutes").first()
    return template.slot_minutes if template else DEFAULT_SLOT_MINUTES[AppointmentKind(kind)]


def _clock_time(text: str) -> time:
    if text == "24:00":
        return time(23, 59, 59)
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def opening_window(dealer: Dealer, day: date) -> tuple[datetime, datetime] | None:
    """The store's (open, close) on `day` as aware Shanghai datetimes, or None when it is closed."""
    hours = (getattr(dealer, "opening_hours", None) or {}).get(WEEKDAYS[day.weekday()])
    if not hours or len(hours) != 2:
        return None
    opens = datetime.combine(day, _clock_time(hours[0]), tzinfo=clock.SHANGHAI)
    closes = datetime.combine(day, _clock_time(hours[1]), tzinfo=clock.SHANGHAI)
    return (opens, closes) if closes > opens else None


def slot_starts(dealer: Dealer, day: date, minutes: int) -> list[datetime]:
    """Every slot start on `day`: from opening time, back to back, the last one ending by closing time."""
    window = opening_window(dealer, day)
    if window is None:
        return []
    opens, closes = window
    length = timedelta(minutes=minutes)
    starts = []
    moment = opens
    while moment + length <= closes:
        starts.append(moment)
        moment += length
    return starts


def booking_dates(today: date | None = None) -> tuple[date, date]:
    """The first and last day a slot can be booked on (Shanghai dates)."""
    first = today or clock.local_now().date()
    return first, first + timedelta(days=BOOKING_HORIZON_DAYS)


def is_bookable_day(day: date) -> bool:
    first, last = booking_dates()
    return first <= day <= last
