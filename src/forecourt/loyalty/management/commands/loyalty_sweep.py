"""Run the loyalty sweeper once: write lapsed points' expiry entries, tidy unpaid reward redemptions."""

from typing import Any

from django.core.management.base import BaseCommand

from forecourt.loyalty.services.sweeps import loyalty_sweep


class Command(BaseCommand):
    help = "Write the expiry entries of lapsed points and cancel reward redemptions left unpaid."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = loyalty_sweep()
        self.stdout.write(" ".join(f"{name}={count}" for name, count in counts.items()))
