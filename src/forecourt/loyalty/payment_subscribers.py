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

from datetime import datetime
from typing import Any

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


def _payload(event: Event) -> dict[str, Any]:
    return event.payload if isinstance(event.payload, dict) else {}


@subscriber("payment.succeeded", name="loyalty.reward_paid")
def on_payment_succeeded(event: Event) -> None:
    payload = _payload(event)
    if str(payload.get("purpose", "")) != PURPOSE:
        return
    paid_at = payload.get("paid_at")
    reward_payment_credit(
        intent=str(payload.get("intent") or event.subject_id),
        reference=str(payload.get("reference", "")),
        amount_fen=int(payload["amount_fen"]),
        currency=str(payload.get("currency", "CNY")),
        paid_at=datetime.fromisoformat(paid_at) if isinstance(paid_at, str) else None,
    )


@subscriber("payment.failed", name="loyalty.reward_payment_failed")
def on_payment_failed(event: Event) -> None:
    payload = _payload(event)
    if str(payload.get("purpose", "")) != PURPOSE:
        return
    reward_payment_fail(
        intent=str(payload.get("intent") or event.subject_id), reference=str(payload.get("reference", ""))
    )


@subscriber("voucher.voided", name="loyalty.reward_voucher_voided")
def on_voucher_voided(event: Event) -> None:
    reward_voucher_withdrawn(voucher_code=event.subject_id, reason=CANCEL_VOUCHER_VOID)


@subscriber("voucher.refunded", name="loyalty.reward_voucher_refunded")
def on_voucher_refunded(event: Event) -> None:
    reward_voucher_withdrawn(voucher_code=event.subject_id, reason=CANCEL_VOUCHER_REFUNDED)
