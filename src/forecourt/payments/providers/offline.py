"""Money taken in store: staff record it (`payment_offline_record`), so there is no gateway to talk to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from forecourt.core.identifiers import random_code
from forecourt.payments.providers.base import (
    NotificationRejected,
    PaymentStart,
    RefundResult,
    VerifiedNotification,
)

if TYPE_CHECKING:
    from forecourt.payments.models import PaymentIntent


class OfflineProvider:
    name = "offline"

    def is_configured(self) -> bool:
        return True

    def start(self, intent: PaymentIntent, *, return_url: str, channel: str) -> PaymentStart:
        # Nothing to do online: the payer pays at the store's till and staff record it.
        return PaymentStart(kind="done", params={"pay_in_store": True})

    def verify_notification(self, *, headers: Mapping[str, str], body: bytes) -> VerifiedNotification:
        raise NotificationRejected("not_supported", "store payments have no notifications")

    def acknowledge(self, *, accepted: bool) -> tuple[int, bytes, str]:
        return (200 if accepted else 400), b"", "text/plain"

    def refund(
        self, intent: PaymentIntent, *, out_refund_no: str, amount_fen: int, reason: str
    ) -> RefundResult:
        # Paid back at the till (cash, or the card terminal's own refund); recording it is the refund.
        return RefundResult(status="succeeded", provider_refund_id=f"STORE{random_code(16)}")

    def query(self, intent: PaymentIntent) -> VerifiedNotification | None:
        return None
