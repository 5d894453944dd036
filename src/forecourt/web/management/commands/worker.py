"""The background task worker: runs queued tasks (event delivery above all) and, now and then, the sweeper."""

import logging
import threading
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from forecourt.core.logging import log_context

logger = logging.getLogger(__name__)

# Each app's sweeper: event redelivery and key purge (core), SLA escalations and re-routes (leads),
# reminders and no-shows (appointments), expired holds, automatic locks and late deliveries (orders),
# late notifications and stuck refunds (payments), lapsed vouchers (offers), points expiries and unpaid
# rewards (loyalty), maturing commissions, conversions and ended tasks (referrals).
SWEEPS = (
    "sweep",
    "leads_sweep",
    "appointments_sweep",
    "orders_sweep",
    "payments_sweep",
    "offers_sweep",
    "loyalty_sweep",
    "referrals_sweep",
)


def _sweep_periodically(every_seconds: float, stopped: threading.Event) -> None:
    while not stopped.wait(every_seconds):
        close_old_connections()
        for command in SWEEPS:
            try:
                call_command(command, verbosity=0)
            except Exception:
                # Sweepers only act on what reads already show (deadlines are evaluated when read);
                # a failed round is retried at the next one.
                logger.exception(
                    "sweep failed", extra=log_context(command=command, every_seconds=every_seconds)
                )
        connection.close()


class Command(BaseCommand):
    help = "Run the background task worker (django-tasks-db's db_worker) with a periodic sweep."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch", action="store_true", help="Run what is queued, then exit.")
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds to wait between polls of an empty queue."
        )
        parser.add_argument(
            "--sweep-every",
            type=float,
            default=300.0,
            help="Seconds between sweeps (event redelivery, idempotency purge); 0 turns the sweeper off.",
        )

    def handle(self, *args: Any, batch: bool, interval: float, sweep_every: float, **options: Any) -> None:
        stopped = threading.Event()
        if sweep_every > 0 and not batch:
            sweeper = threading.Thread(
                target=_sweep_periodically, args=(sweep_every, stopped), name="sweeper", daemon=True
            )
            sweeper.start()
        try:
            call_command(
                "db_worker",
                queue_name="*",
                interval=interval,
                batch=batch,
                # The random start-up delay spreads a pool of workers; a batch run has no pool.
                startup_delay=not batch,
                reload=False,
                verbosity=options["verbosity"],
            )
        finally:
            stopped.set()
        if batch:
            call_command("sweep", verbosity=options["verbosity"])
