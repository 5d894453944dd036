"""The referrals tests' race helper (PostgreSQL): many threads released together, each on its own
database connection."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connections

from forecourt.core.errors import DomainError


def race(items: Iterable[Any], work: Callable[[Any], str]) -> Counter[str]:
    """Run `work(item)` in one thread per item, released together by a barrier; count the outcomes
    (what `work` returns, a DomainError's code, or the crash). A clock frozen by the caller holds in every
    thread (core.clock keeps it process-wide)."""
    items = list(items)
    barrier = threading.Barrier(len(items))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def run(item: Any) -> None:
        try:
            barrier.wait(timeout=60)
            try:
                outcome = work(item)
            except DomainError as error:
                outcome = error.code
            except Exception as error:
                outcome = f"crash: {type(error).__name__}: {error}"
            with lock:
                outcomes[outcome] += 1
        finally:
            # Each thread has its own connection; close it so the test database can be dropped.
            connections.close_all()

    threads = [threading.Thread(target=run, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes
