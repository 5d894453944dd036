"""Real concurrency on PostgreSQL: taps on the daily check-in at once earn once; earnings of one source at
once never pass the rule's daily limit (the member's row lock serialises the count and the insert)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import connections

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.loyalty.models import EarnSource, PointsEntry
from forecourt.loyalty.services import daily_check_in, points_earn_for

from .members_cast import MONDAY_10, club_rules, make_member

POSTGRES = settings.DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres_only,
    pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (set DATABASE_URL=postgres://...)"),
]
THREADS = 16


def _race(work: Callable[[int], str], threads: int = THREADS) -> Counter[str]:
    barrier = threading.Barrier(threads)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            try:
                outcome = work(index)
            except DomainError as error:
                outcome = error.code
            except Exception as error:  # a crash is an outcome the assertions must see
                outcome = f"crash: {type(error).__name__}: {error}"
            with lock:
                outcomes[outcome] += 1
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    return outcomes


def test_taps_on_the_daily_check_in_at_once_earn_once():
    club_rules()
    member = make_member()
    with clock.frozen_at(MONDAY_10):
        outcomes = _race(lambda _index: str(daily_check_in(member=member).points))
    assert outcomes == Counter({"10": 1, "already_checked_in": THREADS - 1})
    assert PointsEntry.objects.filter(member=member).count() == 1


def test_earnings_at_once_never_pass_the_daily_limit():
    club_rules()  # a test drive earns 200, at most twice a day
    member = make_member()

    def earn(index: int) -> str:
        entry = points_earn_for(member=member, source=EarnSource.TEST_DRIVE, ref=f"apt_{index}")
        return "earned" if entry is not None else "limit"

    with clock.frozen_at(MONDAY_10):
        outcomes = _race(earn)
    assert outcomes == Counter({"earned": 2, "limit": THREADS - 2})
    assert PointsEntry.objects.filter(member=member, reason="test_drive").count() == 2
