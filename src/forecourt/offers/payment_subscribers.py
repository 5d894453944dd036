"""Reacting to payments: a paid coupon becomes usable when payments records its `payment.succeeded`.

The handler runs once per event (core.events keeps one delivery row per event and subscriber) and is
idempotent by itself too: `voucher_payment_credit` credits one intent once.
"""

from __future__ import annotations

from datetime import datetime

from forecourt.core.events import subscriber
from forecourt.core.models import Event
from forecourt.offers.services.paid import PURPOSE, voucher_payment_credit


@subscriber("payment.succeeded", name="offers.voucher_paid")
def on_payment_succeeded(event: Event) -> None:
    payload = event.payload or {}
    if str(payload.get("purpose", "")) != PURPOSE:
        return
    paid_at = payload.get("paid_at")
    voucher_payment_credit(
        intent=str(payload.get("intent") or event.subject_id),
        reference=str(payload.get("reference", "")),
        amount_fen=int(payload["amount_fen"]),
        currency=str(payload.get("currency", "CNY")),
        paid_at=datetime.fromisoformat(paid_at) if isinstance(paid_at, str) else None,
    )
