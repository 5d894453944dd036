"""Reacting to payments: orders move when payments record payment.succeeded and payment.refunded.

Each handler runs once per event (core.events keeps a delivery row per event and subscriber) and is
idempotent by itself as well: a payment is credited once per intent, a refund applied once per refund.
"""

from __future__ import annotations

from forecourt.core.events import subscriber
from forecourt.core.models import Event
from forecourt.orders.models import PURPOSE_PREFIX
from forecourt.orders.services import order_payment_credit, order_refund_apply


@subscriber("payment.succeeded", name="orders.credit_payment")
def on_payment_succeeded(event: Event) -> None:
    payload = event.payload or {}
    purpose = str(payload.get("purpose", ""))
    if not purpose.startswith(PURPOSE_PREFIX):
        return
    order_payment_credit(
        intent=str(payload.get("intent") or event.subject_id),
        purpose=purpose,
        reference=str(payload.get("reference", "")),
        amount_fen=int(payload["amount_fen"]),
        currency=str(payload.get("currency", "CNY")),
        provider=str(payload.get("provider", "")),
    )


@subscriber("payment.refunded", name="orders.apply_refund")
def on_payment_refunded(event: Event) -> None:
    payload = event.payload or {}
    if not str(payload.get("purpose", "")).startswith(PURPOSE_PREFIX):
        return
    order_refund_apply(
        refund=str(payload["refund"]),
        intent=str(payload.get("intent") or event.subject_id),
        amount_fen=int(payload["amount_fen"]),
    )
