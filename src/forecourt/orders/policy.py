"""The orders app's tunable rules, read from settings with typed defaults (the settings module reads the
environment: FORECOURT_ORDERS_INTENTION_FEN and friends)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Intention money (意向金): small and refundable until the lock.
DEFAULT_INTENTION_FEN = 2_000_00
# The whole deposit (定金), the intention money included: kept when the buyer cancels after the lock.
DEFAULT_DEPOSIT_FEN = 20_000_00
# The lock date a buyer gets when they do not choose one, and the latest they may choose.
DEFAULT_LOCK_DAYS = 7
DEFAULT_LOCK_MAX_DAYS = 60
# The promised delivery date is set this many days after a car is allocated.
DEFAULT_DELIVERY_DAYS = 14
# Late-delivery compensation per whole day past the promised date (member points, credited later).
DEFAULT_LATE_POINTS_PER_DAY = 100
# An unpaid limited-edition order whose hold expired this long ago is cancelled by the sweeper.
DEFAULT_EXPIRED_HOLD_CANCEL_HOURS = 24


def _whole(name: str, default: int, *, minimum: int = 0) -> int:
    value = getattr(settings, name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ImproperlyConfigured(f"{name} must be a whole number of at least {minimum}, got {value!r}")
    return value


def intention_fen() -> int:
    return _whole("ORDERS_INTENTION_FEN", DEFAULT_INTENTION_FEN, minimum=1)


def deposit_fen() -> int:
    deposit = _whole("ORDERS_DEPOSIT_FEN", DEFAULT_DEPOSIT_FEN, minimum=1)
    if deposit < intention_fen():
        raise ImproperlyConfigured("ORDERS_DEPOSIT_FEN must be at least ORDERS_INTENTION_FEN")
    return deposit


def lock_days() -> int:
    return _whole("ORDERS_LOCK_DAYS", DEFAULT_LOCK_DAYS)


def lock_max_days() -> int:
    return _whole("ORDERS_LOCK_MAX_DAYS", DEFAULT_LOCK_MAX_DAYS, minimum=1)


def delivery_days() -> int:
    return _whole("ORDERS_DELIVERY_DAYS", DEFAULT_DELIVERY_DAYS)


def late_points_per_day() -> int:
    return _whole("ORDERS_LATE_POINTS_PER_DAY", DEFAULT_LATE_POINTS_PER_DAY)


def expired_hold_cancel_hours() -> int:
    return _whole("ORDERS_EXPIRED_HOLD_CANCEL_HOURS", DEFAULT_EXPIRED_HOLD_CANCEL_HOURS, minimum=1)
