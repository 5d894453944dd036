"""Cancelling an order, with the refund rules per stage.

- Before the lock every fen paid is refunded (the intention money and the deposit).
- From the lock on, everything except the deposit is refunded (the deposit is kept).
- A delivered order cannot be cancelled.

The order is cancelled at once; the refunds go through payments and `refunded_fen` follows the
`payment.refunded` events as the providers confirm them.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.money import Money
from forecourt.orders.access import ensure_buyer, ensure_staff_of_order_dealer, is_ops
from forecourt.orders.errors import OrderErrorCode
from forecourt.orders.models import (
    LOCKED_OR_LATER,
    CancelReason,
    EditionHold,
    Order,
    OrderPayment,
    OrderStatus,
    Vehicle,
    VehicleStatus,
)
from forecourt.orders.services.holds import hold_release
from forecourt.orders.services.transitions import order_lock_row, order_settle_lock, order_transition
from forecourt.payments import selectors as payment_selectors
from forecourt.payments import services as payment_services


def refund_due_on_cancel(order: Order) -> int:
    """What cancelling now gives back, in fen: all paid before the lock, all but the deposit after it."""
    if order.status in (OrderStatus.DELIVERED, OrderStatus.CANCELLED):
        return 0
    kept = min(order.deposit_fen, order.paid_fen) if order.effective_status in LOCKED_OR_LATER else 0
    return max(0, order.paid_fen - order.refunded_fen - kept)


def kept_on_cancel(order: Order) -> int:
    """What cancelling now keeps, in fen: what is paid and not refunded, less what goes back."""
    return max(0, order.paid_fen - order.refunded_fen - refund_due_on_cancel(order))


def _authorised_reason(order: Order, actor: Any, reason: str) -> str:
    if reason == CancelReason.BUYER:
        ensure_buyer(actor, order)
    elif reason == CancelReason.DEALER:
        ensure_staff_of_order_dealer(actor, order)
    elif reason == CancelReason.OPS:
        if not is_ops(actor):
            raise DomainError("forbidden", _("Only OEM operations may do this."), status=403)
    elif reason not in CancelReason.values or actor is not None:
        # The other reasons (an expired hold) belong to the system, never to a person.
        raise DomainError(OrderErrorCode.NOT_CANCELLABLE, _("Not a reason a person can give."), status=422)
    return reason


def order_cancel(*, order: Order, actor: Any, reason: str = CancelReason.BUYER, note: str = "") -> Order:
    """Cancel an order before delivery and refund per the stage it reached (see the module docstring)."""
    _authorised_reason(order, actor, reason)
    with transaction.atomic():
        locked = order_settle_lock(order_lock_row(order), actor=actor)
        if not locked.can_cancel():
            message = (
                _("A delivered order cannot be cancelled.")
                if locked.status == OrderStatus.DELIVERED
                else _("The order is already cancelled.")
            )
            raise DomainError(OrderErrorCode.NOT_CANCELLABLE, message, status=409)
        refund_fen = refund_due_on_cancel(locked)
        vin = locked.vehicle.vin if locked.vehicle_id and locked.vehicle else None
        locked = order_transition(
            order=locked,
            to_status=OrderStatus.CANCELLED,
            actor=actor,
            reason=(note or reason)[:200],
            cancel_reason=reason,
            refund_fen=refund_fen,
            kept_fen=kept_on_cancel(locked),
            vin=vin,
        )
        _release_car(locked)
        hold = EditionHold.objects.filter(order=locked).first()
        if hold is not None:
            hold_release(hold=hold)
        _refund(locked, refund_fen, actor=actor)
        _close_open_intents(locked)
    return locked


def _release_car(order: Order) -> None:
    if order.vehicle_id is None:
        return
    Vehicle.objects.filter(pk=order.vehicle_id, status=VehicleStatus.ALLOCATED).update(
        status=VehicleStatus.AVAILABLE
    )
    # The car can go to another order; the VIN stays in the cancellation's event and history.
    order.vehicle = None
    order.updated_at = clock.now()
    order.save(update_fields=["vehicle", "updated_at"])


def _refund(order: Order, amount_fen: int, *, actor: Any) -> None:
    """Refund `amount_fen` across the order's payments, the latest first (final, deposit, intention)."""
    remaining = amount_fen
    for payment in OrderPayment.objects.filter(order=order).order_by("-at", "-id"):
        if remaining <= 0:
            break
        available = payment.credited_fen - payment.order_refunded_fen
        share = min(available, remaining)
        if share <= 0:
            continue
        payment_services.payment_refund(
            intent=payment_selectors.payment_intent_get(public_id=payment.intent),
            amount=Money(share, order.currency),
            reason="order cancelled",
            idempotency_key=f"order-cancel:{order.number}:{payment.intent}",
            actor=actor if getattr(actor, "pk", None) else None,
        )
        remaining -= share


def _close_open_intents(order: Order) -> None:
    """Intents still waiting for money are closed, so nothing more is taken for a cancelled order."""
    for intent in payment_selectors.payment_intents_for(reference=order.number):
        if intent.status == "created" and intent.purpose.startswith("order."):
            payment_services.payment_intent_close(intent=intent)
