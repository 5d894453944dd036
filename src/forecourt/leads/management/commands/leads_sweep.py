"""Run the lead SLA sweeper once: escalate, re-route and queue what is due (idempotent; run it often)."""

from typing import Any

from django.core.management.base import BaseCommand

from forecourt.leads.services import lead_sla_sweep


class Command(BaseCommand):
    help = "Escalate, re-route or queue every lead whose first-contact deadline has passed."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = lead_sla_sweep()
        self.stdout.write(" ".join(f"{name}={count}" for name, count in counts.items()))
