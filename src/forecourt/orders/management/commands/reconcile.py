"""`forecourt reconcile`: notifications, intents, refunds and the ledger (payments), and orders against
payments. Prints each discrepancy and exits non-zero when there is any."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from forecourt.orders.reconciliation import orders_reconcile
from forecourt.payments.selectors import payments_reconcile


class Command(BaseCommand):
    help = "Compare payment notifications, the ledger and orders; exit 1 when anything disagrees."

    def handle(self, *args: Any, **options: Any) -> None:
        count = 0
        for payment_gap in payments_reconcile():
            count += 1
            self.stdout.write(f"payments\t{payment_gap.kind}\t{payment_gap.subject}\t{payment_gap.detail}")
        for order_gap in orders_reconcile():
            count += 1
            self.stdout.write(f"orders\t{order_gap.kind}\t{order_gap.subject}\t{order_gap.detail}")
        if count:
            raise CommandError(f"{count} discrepancies found")
        self.stdout.write("reconciled: no discrepancies")
