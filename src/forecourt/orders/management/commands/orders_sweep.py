"""Run the orders sweeper once: expire holds, write down due locks, accrue late-delivery days."""

from typing import Any

from django.core.management.base import BaseCommand

from forecourt.orders.services import orders_sweep


class Command(BaseCommand):
    help = "Expire unpaid limited-edition holds, lock orders past their lock date, accrue late-delivery days."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = orders_sweep()
        self.stdout.write(" ".join(f"{name}={count}" for name, count in counts.items()))
