"""The buyer's lock: the configuration freezes and the deposit stops being refundable."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.orders.access import ensure_buyer
from forecourt.orders.errors import OrderErrorCode
from forecourt.orders.models import Order, OrderStatus
from forecourt.orders.services.transitions import order_lock_row, order_transition

AUTO_LOCK_BATCH = 200


def order_lock(*, order: Order, actor: Any) -> Order:
    """The buyer locks the order (after paying the deposit); it would lock by itself at the lock date."""
    ensure_buyer(actor, order)
    with transaction.atomic():
        locked = order_lock_row(order)
        if locked.status == OrderStatus.LOCKED or locked.is_lock_due():
            if locked.status == OrderStatus.DEPOSIT_PAID:
                return order_transition(order=locked, to_status=OrderStatus.LOCKED, reason="lock_deadline")
            raise DomainError(OrderErrorCode.LOCKED, _("The order is already locked."), status=409)
        if locked.status != OrderStatus.DEPOSIT_PAID:
            raise DomainError(
                OrderErrorCode.TRANSITION_NOT_ALLOWED,
                _("Pay the deposit before locking the order."),
                status=409,
                details={"from": locked.status, "to": OrderStatus.LOCKED},
            )
        return order_transition(order=locked, to_status=OrderStatus.LOCKED, actor=actor, reason="buyer")


def orders_auto_lock(*, limit: int = AUTO_LOCK_BATCH) -> int:
    """Sweeper: write down the locks that fell due at the lock date (reads already treat them as locked)."""
    today = clock.local_now().date()
    due = Order.objects.filter(status=OrderStatus.DEPOSIT_PAID, lock_deadline__lt=today).values_list(
        "pk", flat=True
    )[:limit]
    count = 0
    for pk in due:
        with transaction.atomic():
            locked = order_lock_row(pk)
            if locked.is_lock_due():
                order_transition(order=locked, to_status=OrderStatus.LOCKED, reason="lock_deadline")
                count += 1
    return count
