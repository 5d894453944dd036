"""Run the offers sweeper once: expire lapsed vouchers, void unpaid paid coupons and free their budget."""

from typing import Any

from django.core.management.base import BaseCommand

from forecourt.offers.services import offers_sweep


class Command(BaseCommand):
    help = "Expire lapsed vouchers; void paid coupons not paid in time and give their budget back."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = offers_sweep()
        self.stdout.write(" ".join(f"{name}={count}" for name, count in counts.items()))
