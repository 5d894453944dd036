"""Tidy up: redeliver events whose subscribers are due a retry, purge expired idempotency keys.

Correctness never depends on this running (retries are also queued as deferred tasks); it catches
events whose delivery was never enqueued and keeps the idempotency table small.
"""

from typing import Any

from django.core.management.base import BaseCommand

from forecourt.core.events import event_redeliver_pending
from forecourt.core.idempotency import idempotency_records_purge


class Command(BaseCommand):
    help = "Redeliver pending events and purge expired idempotency records (the worker runs this too)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--limit", type=int, default=500, help="Most events to redeliver in one run.")

    def handle(self, *args: Any, limit: int, **options: Any) -> None:
        redelivered = event_redeliver_pending(limit=limit)
        purged = idempotency_records_purge()
        if options["verbosity"] >= 1:
            self.stdout.write(f"Redelivered {redelivered} event(s); purged {purged} idempotency record(s).")
