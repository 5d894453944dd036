"""A stand-in gateway provider for refund and query tests: answers what the test tells it to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from forecourt.payments.providers.base import (
    NotificationRejected,
    PaymentStart,
    RefundResult,
    VerifiedNotification,
)


class FakeGateway:
    """Behaves as the gateway named `name`; class attributes script its answers, `calls` records them."""

    name = "alipay"
    refund_answer: ClassVar[str | Exception] = "pending"
    query_answer: ClassVar[VerifiedNotification | None] = None
    calls: ClassVar[list[tuple[str, Any]]] = []

    def is_configured(self) -> bool:
        return True

    def start(self, intent: Any, *, return_url: str, channel: str) -> PaymentStart:
        return PaymentStart(kind="redirect", url=f"https://gateway.example/pay/{intent.out_trade_no}")

    def verify_notification(self, *, headers: Mapping[str, str], body: bytes) -> VerifiedNotification:
        raise NotificationRejected("bad_signature")

    def acknowledge(self, *, accepted: bool) -> tuple[int, bytes, str]:
        return 200, b"success" if accepted else b"failure", "text/plain"

    def refund(self, intent: Any, *, out_refund_no: str, amount_fen: int, reason: str) -> RefundResult:
        FakeGateway.calls.append(("refund", out_refund_no))
        answer = FakeGateway.refund_answer
        if isinstance(answer, Exception):
            raise answer
        return RefundResult(status=answer, provider_refund_id=f"GW{out_refund_no}", message=answer)

    def query(self, intent: Any) -> VerifiedNotification | None:
        FakeGateway.calls.append(("query", intent.out_trade_no))
        return FakeGateway.query_answer
