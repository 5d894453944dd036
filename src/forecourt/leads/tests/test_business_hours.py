"""Business-hours arithmetic (pure): the first-contact deadline counts only 08:30–21:00 on working days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecourt.leads.business_hours import BusinessCalendar, add_business_minutes, business_minutes_between

SH = ZoneInfo("Asia/Shanghai")
EVERY_DAY = BusinessCalendar(day_start=time(8, 30), day_end=time(21, 0))
WEEKDAYS_ONLY = BusinessCalendar(
    day_start=time(8, 30), day_end=time(21, 0), working_weekdays=frozenset(range(5))
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    # November 2026: the 23rd is a Monday, the 28th a Saturday.
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


def test_two_hours_inside_the_day_is_two_hours_later():
    assert add_business_minutes(at(23, 10), 120, EVERY_DAY) == at(23, 12)


def test_a_lead_at_half_past_eight_in_the_evening_is_due_at_ten_the_next_morning():
    assert add_business_minutes(at(23, 20, 30), 120, EVERY_DAY) == at(24, 10)


def test_a_lead_before_opening_starts_the_clock_at_half_past_eight():
    assert add_business_minutes(at(23, 6), 120, EVERY_DAY) == at(23, 10, 30)


def test_a_lead_after_closing_starts_the_clock_the_next_morning():
    assert add_business_minutes(at(23, 22, 15), 120, EVERY_DAY) == at(24, 10, 30)


def test_a_deadline_may_fall_exactly_at_closing_time():
    assert add_business_minutes(at(23, 19), 120, EVERY_DAY) == at(23, 21)


def test_zero_minutes_at_closing_time_is_the_next_opening():
    assert add_business_minutes(at(23, 21), 0, EVERY_DAY) == at(24, 8, 30)


def test_weekends_are_skipped_when_the_policy_works_weekdays_only():
    # Friday 20:00: one hour on Friday, the second on Monday morning.
    assert add_business_minutes(at(27, 20), 120, WEEKDAYS_ONLY) == at(30, 9, 30)
    assert add_business_minutes(at(28, 11), 120, WEEKDAYS_ONLY) == at(30, 10, 30)


def test_weekends_count_when_the_policy_works_every_day():
    assert add_business_minutes(at(28, 11), 120, EVERY_DAY) == at(28, 13)


def test_closed_dates_are_skipped():
    calendar = BusinessCalendar(
        day_start=time(8, 30), day_end=time(21, 0), closed_dates=frozenset({date(2026, 11, 24)})
    )
    assert add_business_minutes(at(23, 20, 30), 120, calendar) == at(25, 10)


def test_twice_the_deadline_spans_the_night():
    assert add_business_minutes(at(23, 20), 240, EVERY_DAY) == at(24, 11, 30)


def test_a_utc_start_is_read_in_shanghai_time():
    start = datetime(2026, 11, 23, 12, 30, tzinfo=ZoneInfo("UTC"))  # 20:30 in Shanghai
    assert add_business_minutes(start, 120, EVERY_DAY) == at(24, 10)


def test_naive_times_and_bad_calendars_are_refused():
    with pytest.raises(ValueError):
        add_business_minutes(datetime(2026, 11, 23, 10), 120, EVERY_DAY)
    with pytest.raises(ValueError):
        BusinessCalendar(day_start=time(21), day_end=time(8, 30))
    with pytest.raises(ValueError):
        BusinessCalendar(day_start=time(8), day_end=time(9), working_weekdays=frozenset())


def test_business_minutes_between_counts_only_open_time():
    assert business_minutes_between(at(23, 20, 30), at(24, 10), EVERY_DAY) == 120
    assert business_minutes_between(at(27, 20), at(30, 9, 30), WEEKDAYS_ONLY) == 120
    assert business_minutes_between(at(23, 22), at(24, 8), EVERY_DAY) == 0
    assert business_minutes_between(at(24, 10), at(23, 20, 30), EVERY_DAY) == -120


starts = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(SH))


@given(
    start=starts,
    minutes=st.integers(min_value=1, max_value=5000),
    weekdays=st.sets(st.integers(min_value=0, max_value=6), min_size=1),
)
def test_adding_then_measuring_business_minutes_round_trips(start, minutes, weekdays):
    calendar = BusinessCalendar(
        day_start=time(8, 30), day_end=time(21, 0), working_weekdays=frozenset(weekdays)
    )
    deadline = add_business_minutes(start, minutes, calendar)

    assert deadline > start
    assert abs(business_minutes_between(start, deadline, calendar) - minutes) < 1e-6
    local = deadline.astimezone(SH)
    assert time(8, 30) < local.time() <= time(21, 0)
    assert local.weekday() in weekdays


@given(
    start=starts,
    minutes=st.integers(min_value=0, max_value=3000),
    extra=st.integers(min_value=1, max_value=600),
)
def test_more_minutes_never_give_an_earlier_deadline(start, minutes, extra):
    assert add_business_minutes(start, minutes + extra, EVERY_DAY) > add_business_minutes(
        start, minutes, EVERY_DAY
    )
    assert add_business_minutes(start, minutes, EVERY_DAY) >= start - timedelta(0)
