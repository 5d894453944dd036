"""Ask gateways about late notifications and resubmit stuck refunds; safe to run as often as wanted."""

from typing import Any

from django.core.management.base import BaseCommand

from forecourt.payments.services import payments_sweep


class Command(BaseCommand):
    help = "Query gateways for unpaid trades whose notification is late; resubmit pending gateway refunds."

    def handle(self, *args: Any, **options: Any) -> None:
        done = payments_sweep()
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"Queried {done['queried']} payment(s); resubmitted {done['refunds_resubmitted']} refund(s)."
            )
