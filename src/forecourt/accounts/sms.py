"""Text messages go out through one sender interface, chosen by `settings.SMS_SENDER` (a dotted path).

The default, OutboxSender, writes each message to a local outbox table: the embedded set-up sends
nothing to a provider, and in demo mode the outbox is readable at /demo/outbox. A provider adapter
implements the same `send` and is selected by setting FORECOURT_SMS_SENDER.
"""

from functools import cache
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.utils.module_loading import import_string

from forecourt.accounts.models import OutboxMessage
from forecourt.core.clock import now
from forecourt.core.phones import encrypt_phone, mask_phone, phone_hash


@runtime_checkable
class SmsSender(Protocol):
    def send(self, *, phone_e164: str, text: str, purpose: str) -> None:
        """Deliver `text` to `phone_e164` (already normalised); raise if it cannot be handed over."""
        ...


class OutboxSender:
    """Keeps messages in the local outbox instead of sending them."""

    def send(self, *, phone_e164: str, text: str, purpose: str) -> None:
        OutboxMessage.objects.create(
            phone_hash=phone_hash(phone_e164),
            phone_encrypted=encrypt_phone(phone_e164),
            phone_masked=mask_phone(phone_e164),
            text=text,
            purpose=purpose[:40],
            created_at=now(),
        )


@cache
def _sender_for(dotted_path: str) -> SmsSender:
    sender = import_string(dotted_path)()
    if not isinstance(sender, SmsSender):
        raise TypeError(f"SMS_SENDER {dotted_path!r} has no send(*, phone_e164, text, purpose) method")
    return sender


def sms_sender() -> SmsSender:
    """The configured sender (one instance per dotted path, so tests may swap the setting)."""
    return _sender_for(settings.SMS_SENDER)
