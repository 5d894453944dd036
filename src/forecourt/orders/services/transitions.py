"""The one guarded status change, and the helpers every order service shares (row lock, event)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.events import event_record
from forecourt.offers import services as offer_services
from forecourt.orders.errors import OrderErrorCode
from forecourt.orders.models import (
    ALLOWED_TRANSITIONS,
    CancelReason,
    Order,
    OrderStatus,
    OrderStatusChange,
)

S = OrderStatus


def order_lock_row(order: Order | int) -> Order:
    """Re-read the order under a row lock (inside the caller's transaction); guards are checked after this."""
    pk = order if isinstance(order, int) else order.pk
    # Only the order's own row is locked (`of`); the buyer and dealer come along for the event payloads.
    return Order.objects.select_for_update(of=("self",)).select_related("buyer", "dealer").get(pk=pk)


def order_event(name: str, order: Order, *, actor: Any = None, **payload: Any) -> None:
    """Record an order event, filed under the delivering dealer for the tenant feed."""
    event_record(
        name,
        subject_type="order",
        subject_id=order.number,
        actor=actor,
        dealer_id=order.dealer_id,
        payload={"order": order.number, "status": order.status, **payload},
    )


def _label(status: str) -> str:
    return str(OrderStatus(status).label) if status in OrderStatus.values else status


def transition_guard_failure(order: Order, to_status: str) -> DomainError | None:
    """Why `order` may not move to `to_status` now, or None when it may (table first, then the guards)."""
    if to_status not in ALLOWED_TRANSITIONS.get(order.status, frozenset()):
        return DomainError(
            OrderErrorCode.TRANSITION_NOT_ALLOWED,
            _("An order cannot move from %(from)s to %(to)s.")
            % {"from": _label(order.status), "to": _label(to_status)},
            status=409,
            details={"from": order.status, "to": to_status},
        )
    money_needed: dict[str, int] = {
        S.INTENTION_PAID: order.intention_fen,
        S.DEPOSIT_PAID: order.deposit_fen,
        S.FINAL_PAID: order.total_fen,
    }
    if to_status in money_needed and order.paid_fen < money_needed[to_status]:
        return DomainError(
            OrderErrorCode.TRANSITION_NOT_ALLOWED,
            _("The money for this step has not been received."),
            status=409,
            details={"from": order.status, "to": to_status},
        )
    if to_status == S.ALLOCATED and order.vehicle_id is None:
        return DomainError(OrderErrorCode.TRANSITION_NOT_ALLOWED, _("Allocate a car first."), status=409)
    if to_status in (S.READY_FOR_DELIVERY, S.DELIVERED) and order.delivery_at is None:
        return DomainError(OrderErrorCode.TRANSITION_NOT_ALLOWED, _("Book the delivery first."), status=409)
    return None


def order_transition(
    *,
    order: Order | int,
    to_status: str,
    actor: Any = None,
    reason: str = "",
    cancel_reason: str = "",
    **payload: Any,
) -> Order:
    """Move an order to `to_status`: lock it, re-check the guard under the lock, write status, history
    row and the `order.<status>` event in one transaction. Returns the locked, updated order."""
    with transaction.atomic():
        locked = order_lock_row(order)
        failure = transition_guard_failure(locked, to_status)
        if failure is not None:
            raise failure
        moment = clock.now()
        from_status = locked.status
        locked.status = to_status
        locked.updated_at = moment
        fields = ["status", "updated_at"]
        if to_status == S.LOCKED:
            locked.locked_at = moment
            fields.append("locked_at")
        elif to_status == S.DELIVERED:
            locked.delivered_at = moment
            fields.append("delivered_at")
        elif to_status == S.CANCELLED:
            locked.cancelled_at = moment
            locked.cancel_reason = cancel_reason or CancelReason.BUYER
            fields += ["cancelled_at", "cancel_reason"]
        locked.save(update_fields=fields)
        OrderStatusChange.objects.create(
            order=locked,
            from_status=from_status,
            to_status=to_status,
            actor=actor if getattr(actor, "pk", None) else None,
            reason=reason[:200],
            at=moment,
        )
        if to_status == S.CANCELLED:
            # In the cancellation's own transaction: no refund can go out while a coupon still stands on
            # the order (each is released or voided by its campaign's rule). Refunds use paid money only.
            offer_services.vouchers_release_for_order(
                order_reference=locked.number, reason=cancel_reason or CancelReason.BUYER
            )
        order_event(
            f"order.{to_status}",
            locked,
            actor=actor,
            **{
                "from": from_status,
                "buyer": locked.buyer.public_id,
                "dealer": locked.dealer.public_id,
                "total_fen": locked.total_fen,
                "paid_fen": locked.paid_fen,
                "currency": locked.currency,
                "reason": reason,
                **payload,
            },
        )
    return locked


def order_settle_lock(order: Order, *, actor: Any = None) -> Order:
    """Inside a transaction holding the row: write down a lock that fell due at the lock date."""
    if order.is_lock_due():
        return order_transition(order=order, to_status=S.LOCKED, actor=None, reason="lock_deadline")
    return order


def order_advance_by_money(order: Order, *, actor: Any = None) -> Order:
    """Inside a transaction holding the row: take every step the money received now allows."""
    while True:
        if order.status == S.CREATED and order.paid_fen >= order.intention_fen:
            target = S.INTENTION_PAID
        elif order.status == S.INTENTION_PAID and order.paid_fen >= order.deposit_fen:
            target = S.DEPOSIT_PAID
        elif order.status == S.ALLOCATED and order.paid_fen >= order.total_fen:
            target = S.FINAL_PAID
        else:
            return order
        order = order_transition(order=order, to_status=target, actor=actor, reason="payment")
