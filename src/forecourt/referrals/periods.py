"""Calendar months in Shanghai time: statements and leaderboards are kept per month.

A month is named by its first day (a `date`); its bounds are aware datetimes, the start included and the
end (the next month's first midnight) excluded.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from django.utils.translation import gettext as _

from forecourt.core.clock import SHANGHAI
from forecourt.core.errors import field_error
from forecourt.referrals.errors import ReferralErrorCode

MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
# The years a statement, a leaderboard or a task may name: past them, a month's end (or a date's place in
# UTC) would fall outside what dates can hold.
FIRST_YEAR = 2000
LAST_YEAR = 2999


def year_in_range(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR


def month_first(value: date | datetime | str) -> date:
    """The first day of the month `value` falls in (a date, an aware datetime or "YYYY-MM")."""
    if isinstance(value, datetime):
        local = value.astimezone(SHANGHAI) if value.tzinfo else value
        return date(local.year, local.month, 1)
    if isinstance(value, date):
        return date(value.year, value.month, 1)
    match = MONTH_PATTERN.match(str(value or "").strip())
    if match is None or not 1 <= int(match.group(2)) <= 12 or not year_in_range(int(match.group(1))):
        raise field_error(ReferralErrorCode.INVALID, "month", _("Give the month as YYYY-MM."))
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_after(first: date) -> date:
    return date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)


def month_before(first: date) -> date:
    return date(first.year - 1, 12, 1) if first.month == 1 else date(first.year, first.month - 1, 1)


def month_bounds(first: date) -> tuple[datetime, datetime]:
    """[start, end) of the month in Shanghai time."""
    start = datetime.combine(first, time.min, tzinfo=SHANGHAI)
    end = datetime.combine(month_after(first), time.min, tzinfo=SHANGHAI)
    return start, end


def month_label(first: date) -> str:
    return f"{first.year:04d}-{first.month:02d}"
