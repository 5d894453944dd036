"""The interface every payment provider implements, and the values it exchanges with the services.

A provider speaks one gateway's wire format and nothing else: it never touches the database. The
services (``forecourt.payments.services``) decide what a verified notification means for an intent.

What a provider may read from a ``PaymentIntent``: ``public_id``, ``out_trade_no`` (the merchant
order number sent to the gateway, unique, at most 32 characters, ``[0-9A-Za-z]``), ``amount_fen``,
``currency``, ``description``, ``channel`` (provider specific, e.g. "page"/"wap" for Alipay,
"jsapi"/"h5"/"native" for WeChat Pay), ``payer_reference`` (e.g. the payer's WeChat openid for
JSAPI, may be empty), ``provider_trade_no``, ``created_at``, ``expires_at`` (aware datetime).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from forecourt.payments.models import PaymentIntent


@dataclass(frozen=True)
class PaymentStart:
    """How the payer continues: go to ``url``, scan ``qr_payload``, call JSAPI with ``params``, or nothing."""

    kind: str  # "redirect" | "qr" | "jsapi" | "done"
    url: str = ""
    qr_payload: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def as_answer(self) -> dict[str, Any]:
        """The API's answer to "start paying": how the payer continues."""
        return {"kind": self.kind, "url": self.url, "qr_payload": self.qr_payload, "params": self.params}


@dataclass(frozen=True)
class VerifiedNotification:
    """A gateway notification (or query answer) whose signature and merchant identity were verified."""

    notification_id: (
        str  # the gateway's id for this notification (notify_id, WeChat's id); unique per provider
    )
    out_trade_no: str
    provider_trade_no: str
    amount_fen: int
    status: str  # "succeeded" | "failed" | "closed" | "pending"
    raw: dict[str, Any] = field(default_factory=dict)  # the verified fields, for the log


class NotificationRejected(Exception):
    """A notification that must not be believed; ``reason`` is a short machine-readable code.

    Reasons in use: "bad_signature", "wrong_app", "wrong_seller", "stale", "malformed",
    "decrypt_failed", "not_configured", "unknown_trade", "amount_mismatch".
    """

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


@dataclass(frozen=True)
class RefundResult:
    status: str  # "succeeded" | "pending" | "failed"
    provider_refund_id: str = ""
    message: str = ""


@runtime_checkable
class Provider(Protocol):
    name: str

    def is_configured(self) -> bool:
        """True when the keys and ids this provider needs are set."""
        ...

    def start(self, intent: PaymentIntent, *, return_url: str, channel: str) -> PaymentStart:
        """Begin paying ``intent`` on ``channel``; ``return_url`` is where the payer's browser goes after."""
        ...

    def verify_notification(self, *, headers: Mapping[str, str], body: bytes) -> VerifiedNotification:
        """Verify an asynchronous notification; raise ``NotificationRejected`` when it cannot be believed.

        ``headers`` is case-insensitive (``request.headers`` or ``CaseInsensitiveMapping``).
        """
        ...

    def acknowledge(self, *, accepted: bool) -> tuple[int, bytes, str]:
        """The HTTP status, body and content type the gateway expects in answer to a notification."""
        ...

    def refund(
        self, intent: PaymentIntent, *, out_refund_no: str, amount_fen: int, reason: str
    ) -> RefundResult:
        """Ask the gateway to refund ``amount_fen`` of ``intent``; ``out_refund_no`` makes it idempotent."""
        ...

    def query(self, intent: PaymentIntent) -> VerifiedNotification | None:
        """Ask the gateway for the trade's state when a notification is late; None when unknown there."""
        ...
