"""Reacting to payments: a paid coupon becomes usable when payments records its `payment.succeeded`.

The handler runs once per event (core.events keeps one delivery row per event and subscriber) and is
idempotent by itself too: `voucher_payment_credit` credits one intent once.
"""

from __future__ import annotations

from forecourt.core.events import subscriber
from forecourt.core.models import Event
from forecourt.offers.services.paid import PURPOSE, voucher_payment_credit
from forecourt.payments.selectors import payment_event_read


@subscriber("payment.succeeded", name="offers.voucher_paid")
def on_payment_succeeded(event: Event) -> None:
    payment = payment_event_read(event)
    if payment.purpose != PURPOSE:
        return
    voucher_payment_credit(
        intent=payment.intent,
        reference=payment.reference,
        amount_fen=payment.amount_fen,
        currency=payment.currency,
        paid_at=payment.paid_at,
    )
