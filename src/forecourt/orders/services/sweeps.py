"""The orders sweeper: tidies up what reads already show (expired holds, due locks, late days)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from forecourt.core import clock
from forecourt.orders import policy
from forecourt.orders.models import CancelReason, EditionHold, HoldStatus, Order, OrderStatus
from forecourt.orders.services.cancellation import order_cancel
from forecourt.orders.services.delivery import orders_late_days_sweep
from forecourt.orders.services.holds import holds_expire
from forecourt.orders.services.lifecycle import orders_auto_lock

CANCEL_BATCH = 200


def orders_unpaid_editions_cancel(*, limit: int = CANCEL_BATCH) -> int:
    """Cancel limited-edition orders nobody paid for long after their hold expired (nothing to refund)."""
    cutoff = clock.now() - timedelta(hours=policy.expired_hold_cancel_hours())
    stale = (
        EditionHold.objects.filter(status=HoldStatus.EXPIRED, ended_at__lte=cutoff)
        .filter(order__status=OrderStatus.CREATED, order__paid_fen=0)
        .values_list("order_id", flat=True)[:limit]
    )
    count = 0
    for order_id in stale:
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order_id)
            if order.status == OrderStatus.CREATED and order.paid_fen == 0:
                order_cancel(order=order, actor=None, reason=CancelReason.HOLD_EXPIRED)
                count += 1
    return count


def orders_sweep() -> dict[str, int]:
    """Run every tidy-up once; each part is idempotent and safe beside live traffic."""
    return {
        "holds_expired": holds_expire(),
        "orders_locked": orders_auto_lock(),
        "late_days": orders_late_days_sweep(),
        "unpaid_editions_cancelled": orders_unpaid_editions_cancel(),
    }
