"""The one source of "now", so timers (SLA deadlines, holds, code expiry) can be tested with a set clock."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")
_frozen: list[datetime] = []


def now() -> datetime:
    return _frozen[-1] if _frozen else timezone.now()


def local_now() -> datetime:
    return now().astimezone(SHANGHAI)


@contextlib.contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Tests only: make `now()` return `moment` (aware) inside the block."""
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=SHANGHAI)
    _frozen.append(moment)
    try:
        yield
    finally:
        _frozen.pop()


def advance(delta: timedelta) -> None:
    """Tests only: move a frozen clock forward."""
    if not _frozen:
        raise RuntimeError("advance() needs a frozen clock")
    _frozen[-1] = _frozen[-1] + delta
