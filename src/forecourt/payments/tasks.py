"""Background work of the payments app: the sandbox gateway's notifications, and gateway refunds."""

from __future__ import annotations

from typing import Any

from django.tasks import task

from forecourt.payments.models import Refund
from forecourt.payments.providers.sandbox import sandbox_notification_build
from forecourt.payments.services import payment_notification_receive, payment_refund_submit


@task()
def sandbox_notification_send(
    *, notification_id: str, out_trade_no: str, trade_no: str, amount_fen: int, status: str, reason: str = ""
) -> dict[str, Any]:
    """Play the sandbox gateway: sign a notification now and deliver it exactly as an HTTP POST would."""
    headers, body = sandbox_notification_build(
        notification_id=notification_id,
        out_trade_no=out_trade_no,
        trade_no=trade_no,
        amount_fen=amount_fen,
        status=status,
        reason=reason,
    )
    outcome = payment_notification_receive(provider="sandbox", headers=headers, body=body, ip="127.0.0.1")
    return {"accepted": outcome.accepted, "duplicate": outcome.duplicate, "reason": outcome.reason}


@task()
def refund_submit(refund_public_id: str) -> str:
    """Call the gateway for a refund reserved by payment_refund, after its transaction committed."""
    refund = Refund.objects.filter(public_id=refund_public_id).first()
    if refund is None:
        return "missing"
    return str(payment_refund_submit(refund=refund).status)
