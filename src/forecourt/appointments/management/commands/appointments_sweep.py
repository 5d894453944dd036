"""Send the day-before reminders and mark no-shows; safe to run as often as wanted, from anywhere."""

from typing import Any

from django.core.management.base import BaseCommand

from forecourt.appointments.services import appointment_no_shows_mark, appointment_reminders_send


class Command(BaseCommand):
    help = "Send due appointment reminders (once each) and mark appointments nobody came to as no-shows."

    def handle(self, *args: Any, **options: Any) -> None:
        reminded = appointment_reminders_send()
        no_shows = appointment_no_shows_mark()
        if options["verbosity"] >= 1:
            self.stdout.write(f"Sent {reminded} reminder(s); marked {no_shows} no-show(s).")
