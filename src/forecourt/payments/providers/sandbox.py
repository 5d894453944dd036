"""The sandbox provider: a local payment page, and notifications signed the way a real gateway signs them.

Wire format of a notification (what `POST /payments/sandbox/notify` receives):

- body: UTF-8 JSON ``{"id", "out_trade_no", "trade_no", "amount_fen", "currency", "status", "reason"}``
  with ``status`` one of "succeeded", "failed", "closed";
- header ``X-Sandbox-Timestamp``: Unix seconds when it was signed;
- header ``X-Sandbox-Signature``: hex HMAC-SHA256 with PAYMENTS_SANDBOX_SIGNING_KEY over
  ``<timestamp> "." <body>``, so neither the body nor its age can be changed without the key.

A notification signed more than PAYMENTS_NOTIFICATION_MAX_AGE_SECONDS ago (or as far ahead) is stale.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse

from forecourt.core import clock
from forecourt.core.identifiers import random_code
from forecourt.payments.providers.base import (
    NotificationRejected,
    PaymentStart,
    RefundResult,
    VerifiedNotification,
)

if TYPE_CHECKING:
    from forecourt.payments.models import PaymentIntent

TIMESTAMP_HEADER = "X-Sandbox-Timestamp"
SIGNATURE_HEADER = "X-Sandbox-Signature"
SANDBOX_STATUSES = ("succeeded", "failed", "closed")
_MAX_BODY = 8 * 1024


def _key() -> bytes:
    return str(settings.PAYMENTS_SANDBOX_SIGNING_KEY).encode()


def sandbox_signature(*, timestamp: str, body: bytes, key: bytes | None = None) -> str:
    return hmac.new(key or _key(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def sandbox_notification_build(
    *,
    notification_id: str,
    out_trade_no: str,
    trade_no: str,
    amount_fen: int,
    status: str,
    reason: str = "",
    timestamp: int | None = None,
) -> tuple[dict[str, str], bytes]:
    """The headers and body of one signed sandbox notification, as the sandbox "gateway" sends it."""
    body = json.dumps(
        {
            "id": notification_id,
            "out_trade_no": out_trade_no,
            "trade_no": trade_no,
            "amount_fen": amount_fen,
            "currency": "CNY",
            "status": status,
            "reason": reason,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    stamp = str(int(clock.now().timestamp()) if timestamp is None else timestamp)
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: sandbox_signature(timestamp=stamp, body=body),
    }
    return headers, body


class SandboxProvider:
    name = "sandbox"

    def is_configured(self) -> bool:
        return bool(settings.PAYMENTS_SANDBOX_ENABLED and settings.PAYMENTS_SANDBOX_SIGNING_KEY)

    def start(self, intent: PaymentIntent, *, return_url: str, channel: str) -> PaymentStart:
        return PaymentStart(kind="redirect", url=reverse("payments:sandbox-page", args=[intent.out_trade_no]))

    def verify_notification(self, *, headers: Mapping[str, str], body: bytes) -> VerifiedNotification:
        if not self.is_configured():
            raise NotificationRejected("not_configured")
        stamp = str(headers.get(TIMESTAMP_HEADER) or "")
        signature = str(headers.get(SIGNATURE_HEADER) or "")
        if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12 or not signature:
            raise NotificationRejected("malformed", "missing or unreadable signature headers")
        if len(body) > _MAX_BODY:
            raise NotificationRejected("malformed", "body too large")
        expected = sandbox_signature(timestamp=stamp, body=body)
        if not hmac.compare_digest(expected, signature.strip().lower()):
            raise NotificationRejected("bad_signature")
        age = clock.now().timestamp() - int(stamp)
        if abs(age) > settings.PAYMENTS_NOTIFICATION_MAX_AGE_SECONDS:
            raise NotificationRejected("stale", f"signed {int(age)} s ago")
        fields = _parse(body)
        return VerifiedNotification(
            notification_id=fields["id"],
            out_trade_no=fields["out_trade_no"],
            provider_trade_no=fields["trade_no"],
            amount_fen=fields["amount_fen"],
            status=fields["status"],
            raw=fields,
        )

    def acknowledge(self, *, accepted: bool) -> tuple[int, bytes, str]:
        if accepted:
            return 200, b'{"code":"SUCCESS"}', "application/json"
        return 400, b'{"code":"FAIL"}', "application/json"

    def refund(
        self, intent: PaymentIntent, *, out_refund_no: str, amount_fen: int, reason: str
    ) -> RefundResult:
        # The sandbox "gateway" holds no money of its own: a refund is done the moment it is asked.
        return RefundResult(status="succeeded", provider_refund_id=f"SBR{random_code(20)}")

    def query(self, intent: PaymentIntent) -> VerifiedNotification | None:
        # Nothing to ask: a sandbox payment exists only through the notification the page sends.
        return None


def _parse(body: bytes) -> dict[str, Any]:
    """The notification's fields, type-checked; anything unexpected is "malformed"."""
    try:
        fields = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise NotificationRejected("malformed", "body is not JSON") from None
    if not isinstance(fields, dict):
        raise NotificationRejected("malformed", "body is not an object")
    text_fields = ("id", "out_trade_no", "trade_no", "currency", "status")
    for name in text_fields:
        value = fields.get(name)
        if not isinstance(value, str) or not value or len(value) > 64:
            raise NotificationRejected("malformed", f"{name} missing or invalid")
    amount = fields.get("amount_fen")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise NotificationRejected("malformed", "amount_fen missing or invalid")
    if fields["status"] not in SANDBOX_STATUSES or fields["currency"] != "CNY":
        raise NotificationRejected("malformed", "unknown status or currency")
    reason = fields.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 100:
        raise NotificationRejected("malformed", "reason invalid")
    return {name: fields[name] for name in text_fields} | {"amount_fen": amount, "reason": reason}
