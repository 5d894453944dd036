"""Booking and confirming the delivery, and the late-delivery compensation that accrues per day."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.orders import policy
from forecourt.orders.access import ensure_buyer_or_staff, ensure_staff_of_order_dealer
from forecourt.orders.errors import OrderErrorCode, field_error
from forecourt.orders.models import Order, OrderLateDay, OrderStatus, Vehicle, VehicleStatus
from forecourt.orders.selectors import late_delivery_days
from forecourt.orders.services.transitions import order_event, order_lock_row, order_transition

LATE_SWEEP_BATCH = 500


def order_delivery_book(*, order: Order, delivery_at: datetime, actor: Any) -> Order:
    """Book (or move) the delivery appointment of a fully paid order."""
    ensure_buyer_or_staff(actor, order)
    if not isinstance(delivery_at, datetime):
        raise field_error(OrderErrorCode.DELIVERY_IN_PAST, "delivery_at", _("Choose a date and time."))
    if timezone.is_naive(delivery_at):
        delivery_at = delivery_at.replace(tzinfo=clock.SHANGHAI)
    if delivery_at <= clock.now():
        raise field_error(OrderErrorCode.DELIVERY_IN_PAST, "delivery_at", _("Choose a time in the future."))
    with transaction.atomic():
        locked = order_lock_row(order)
        if locked.status not in (OrderStatus.FINAL_PAID, OrderStatus.READY_FOR_DELIVERY):
            raise DomainError(
                OrderErrorCode.TRANSITION_NOT_ALLOWED,
                _("The delivery is booked once the final payment is received."),
                status=409,
                details={"from": locked.status, "to": OrderStatus.READY_FOR_DELIVERY},
            )
        moved = locked.delivery_at is not None
        locked.delivery_at = delivery_at
        locked.updated_at = clock.now()
        locked.save(update_fields=["delivery_at", "updated_at"])
        if locked.status == OrderStatus.FINAL_PAID:
            locked = order_transition(
                order=locked,
                to_status=OrderStatus.READY_FOR_DELIVERY,
                actor=actor,
                reason="delivery booked",
                delivery_at=delivery_at.astimezone(clock.SHANGHAI).isoformat(),
            )
        order_event(
            "order.delivery_booked",
            locked,
            actor=actor,
            delivery_at=delivery_at.astimezone(clock.SHANGHAI).isoformat(),
            moved=moved,
        )
    return locked


def order_delivery_confirm(*, order: Order, actor: Any) -> Order:
    """The dealer hands the car over: the order is delivered and the car leaves stock."""
    ensure_staff_of_order_dealer(actor, order)
    with transaction.atomic():
        locked = order_lock_row(order)
        if locked.status != OrderStatus.READY_FOR_DELIVERY:
            raise DomainError(
                OrderErrorCode.TRANSITION_NOT_ALLOWED,
                _("Only an order ready for delivery can be delivered."),
                status=409,
                details={"from": locked.status, "to": OrderStatus.DELIVERED},
            )
        Vehicle.objects.filter(order=locked, status=VehicleStatus.ALLOCATED).update(
            status=VehicleStatus.DELIVERED
        )
        locked = order_transition(
            order=locked,
            to_status=OrderStatus.DELIVERED,
            actor=actor,
            reason="delivered",
            trim=locked.trim.code,
            model=locked.trim.model.code,
            vin=locked.vehicle.vin if locked.vehicle else None,
            edition=locked.edition.code if locked.edition else None,
        )
        # Days already late are owed even when the car arrives; after delivery nothing more accrues.
        _accrue(locked)
    return locked


def _accrue(order: Order) -> int:
    days = late_delivery_days(order)
    if not days:
        return 0
    known = set(OrderLateDay.objects.filter(order=order).values_list("day", flat=True))
    points = policy.late_points_per_day()
    created = 0
    for day in days:
        if day in known:
            continue
        try:
            with transaction.atomic():
                OrderLateDay.objects.create(order=order, day=day, points=points, at=clock.now())
                order_event(
                    "order.delivery_late",
                    order,
                    day=day.isoformat(),
                    points=points,
                    buyer=order.buyer.public_id,
                    promised_delivery_date=order.promised_delivery_date.isoformat()
                    if order.promised_delivery_date
                    else None,
                )
            created += 1
        except IntegrityError:
            # Another reader or the sweeper recorded this day first: once per (order, day).
            continue
    return created


def order_late_days_accrue(*, order: Order) -> int:
    """Record each whole day past the promised delivery date once, with an `order.delivery_late` event."""
    if order.promised_delivery_date is None or order.vehicle_id is None:
        return 0
    return _accrue(order)


def orders_late_days_sweep(*, limit: int = LATE_SWEEP_BATCH) -> int:
    """Sweeper: accrue late days on every undelivered order past its promised date."""
    today = clock.local_now().date()
    late = (
        Order.objects.filter(
            promised_delivery_date__lt=today, delivered_at__isnull=True, cancelled_at__isnull=True
        )
        .exclude(status__in=[OrderStatus.DELIVERED, OrderStatus.CANCELLED])
        .select_related("buyer")
        .order_by("promised_delivery_date", "pk")[:limit]
    )
    return sum(order_late_days_accrue(order=order) for order in late)
