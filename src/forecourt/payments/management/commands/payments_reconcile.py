"""Print every disagreement between notifications, payments, refunds and the ledger; exit 1 if any."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from forecourt.payments.selectors import payments_reconcile


class Command(BaseCommand):
    help = "Compare payment notifications, intents, refunds and the ledger, and list discrepancies."

    def handle(self, *args: Any, **options: Any) -> None:
        found = payments_reconcile()
        for item in found:
            self.stdout.write(f"{item.kind}\t{item.subject}\t{item.detail}")
        if found:
            raise CommandError(f"{len(found)} payment discrepancy(ies)")
        if options["verbosity"] >= 1:
            self.stdout.write("Payments reconcile: no discrepancies.")
