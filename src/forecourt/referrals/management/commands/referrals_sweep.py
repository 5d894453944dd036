"""Run the referrals sweeper once: mature commissions, confirm sales past the return window, close tasks."""

from typing import Any

from django.core.management.base import BaseCommand

from forecourt.referrals.services.sweeps import referrals_sweep


class Command(BaseCommand):
    help = "Make commissions whose hold ended available, confirm referred sales past the return window."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = referrals_sweep()
        self.stdout.write(" ".join(f"{name}={count}" for name, count in counts.items()))
