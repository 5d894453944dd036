"""Reacting to payments and to offers for rewards (imported by `LoyaltyConfig.ready`).

- `payment.succeeded` for purpose "loyalty.reward": the cash part of a points + cash redemption was paid,
  so its voucher is issued (or, if nobody owes it any more, the money goes back);
- `payment.failed`: the redemption is cancelled and its points come back;
- `voucher.voided` / `voucher.refunded`: a reward's voucher was withdrawn by offers, so the redemption
  is cancelled and its points (and cash) come back.

Each handler runs once per event (core.events keeps one delivery row per event and subscriber) and is
idempotent by itself too: a redemption moves only from the status the handler expects.
"""

from __future__ import annotations

from forecourt.core.events import subscriber
from forecourt.core.models import Event
from forecourt.loyalty.services.rewards import (
    CANCEL_VOUCHER_REFUNDED,
    CANCEL_VOUCHER_VOID,
    PURPOSE,
    reward_payment_credit,
    reward_payment_fail,
    reward_voucher_withdrawn,
)
from forecourt.payments.selectors import payment_event_read


@subscriber("payment.succeeded", name="loyalty.reward_paid")
def on_payment_succeeded(event: Event) -> None:
    payment = payment_event_read(event)
    if payment.purpose != PURPOSE:
        return
    reward_payment_credit(
        intent=payment.intent,
        reference=payment.reference,
        amount_fen=payment.amount_fen,
        currency=payment.currency,
        paid_at=payment.paid_at,
    )


@subscriber("payment.failed", name="loyalty.reward_payment_failed")
def on_payment_failed(event: Event) -> None:
    payment = payment_event_read(event)
    if payment.purpose != PURPOSE:
        return
    reward_payment_fail(intent=payment.intent, reference=payment.reference)


@subscriber("voucher.voided", name="loyalty.reward_voucher_voided")
def on_voucher_voided(event: Event) -> None:
    reward_voucher_withdrawn(voucher_code=event.subject_id, reason=CANCEL_VOUCHER_VOID)


@subscriber("voucher.refunded", name="loyalty.reward_voucher_refunded")
def on_voucher_refunded(event: Event) -> None:
    reward_voucher_withdrawn(voucher_code=event.subject_id, reason=CANCEL_VOUCHER_REFUNDED)
