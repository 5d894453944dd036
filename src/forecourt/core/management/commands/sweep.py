"""Tidy up: redeliver events whose subscribers are due a retry, purge expired idempotency keys and the
rate-limit counters of windows that have ended.

Correctness never depends on this running (retries are also queued as deferred tasks; an old counter is
never read again); it catches events whose delivery was never enqueued and keeps the idempotency and
counter tables small.
"""

from typing import Any

from django.core.management.base import BaseCommand

from forecourt.core.events import event_redeliver_pending
from forecourt.core.idempotency import idempotency_records_purge
from forecourt.core.ratelimit import rate_counters_purge


class Command(BaseCommand):
    help = (
        "Redeliver pending events, purge expired idempotency records and rate-limit counters "
        "(the worker runs this too)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--limit", type=int, default=500, help="Most events to redeliver in one run.")

    def handle(self, *args: Any, limit: int, **options: Any) -> None:
        redelivered = event_redeliver_pending(limit=limit)
        purged = idempotency_records_purge()
        counters = rate_counters_purge()
        if options["verbosity"] >= 1:
            self.stdout.write(f"Redelivered {redelivered} event(s); purged {purged} idempotency record(s).")
        if options["verbosity"] >= 2:
            self.stdout.write(f"Purged {counters} expired rate-limit counter(s).")
