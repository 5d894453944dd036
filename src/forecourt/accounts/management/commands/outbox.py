"""`forecourt outbox`: print the newest messages in the local SMS outbox (masked number, time, text)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from forecourt.accounts.selectors import outbox_recent


class Command(BaseCommand):
    help = "Print the newest messages in the local SMS outbox, newest first (numbers are masked)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=20, help="How many messages to print (default 20).")

    def handle(self, *args: Any, **options: Any) -> None:
        limit = options["limit"]
        if limit < 1:
            raise CommandError("--limit must be 1 or more")
        messages = outbox_recent(limit=limit)
        if not messages:
            self.stdout.write("The outbox is empty.")
            return
        for message in messages:
            at = timezone.localtime(message.created_at).strftime("%Y-%m-%d %H:%M:%S")
            self.stdout.write(f"{at}  {message.phone_masked}  [{message.purpose}]  {message.text}")
