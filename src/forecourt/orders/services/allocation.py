"""Cars in stock and allocating one to an order (a VIN from the dealer's or the maker's stock)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from forecourt.catalog.models import Trim
from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.dealers.models import Dealer
from forecourt.orders import policy
from forecourt.orders.access import ensure_staff_of_order_dealer
from forecourt.orders.errors import OrderErrorCode, field_error
from forecourt.orders.models import Order, OrderStatus, Vehicle, VehicleStatus
from forecourt.orders.models.vehicles import VIN_PATTERN
from forecourt.orders.services.transitions import (
    order_advance_by_money,
    order_event,
    order_lock_row,
    order_settle_lock,
    order_transition,
)

_VIN = re.compile(VIN_PATTERN)


def normalise_vin(raw: Any) -> str:
    vin = raw.strip().upper() if isinstance(raw, str) else ""
    if not _VIN.match(vin):
        raise field_error(
            OrderErrorCode.INVALID_VIN, "vin", _("A VIN has 17 letters and digits (never I, O or Q).")
        )
    return vin


def vehicle_add(*, vin: str, trim: Trim, option_codes: list[str], dealer: Dealer | None = None) -> Vehicle:
    """Take a car into stock at a dealer, or the maker's stock when `dealer` is None."""
    checked = normalise_vin(vin)
    try:
        with transaction.atomic():
            return Vehicle.objects.create(
                vin=checked,
                trim=trim,
                option_codes=sorted(set(option_codes)),
                dealer=dealer,
                status=VehicleStatus.AVAILABLE,
                created_at=clock.now(),
            )
    except IntegrityError:
        raise field_error(OrderErrorCode.INVALID_VIN, "vin", _("This VIN is already in stock.")) from None


def order_allocate_vehicle(*, order: Order, vehicle: Vehicle, actor: Any) -> Order:
    """Allocate a matching car to a locked order; the car is taken by a conditional UPDATE (once)."""
    ensure_staff_of_order_dealer(actor, order)
    with transaction.atomic():
        locked = order_settle_lock(order_lock_row(order), actor=actor)
        if locked.status != OrderStatus.LOCKED:
            raise DomainError(
                OrderErrorCode.TRANSITION_NOT_ALLOWED,
                _("A car is allocated once the order is locked, and only once."),
                status=409,
                details={"from": locked.status, "to": OrderStatus.ALLOCATED},
            )
        if vehicle.trim_id != locked.trim_id or sorted(vehicle.option_codes) != sorted(locked.option_codes):
            raise field_error(
                OrderErrorCode.VEHICLE_DOES_NOT_MATCH,
                "vin",
                _("This car is not built to the order's configuration."),
                status=409,
            )
        taken = (
            Vehicle.objects.filter(pk=vehicle.pk, status=VehicleStatus.AVAILABLE)
            .filter(Q(dealer_id=locked.dealer_id) | Q(dealer__isnull=True))
            .update(status=VehicleStatus.ALLOCATED)
        )
        if not taken:
            raise field_error(
                OrderErrorCode.VEHICLE_NOT_AVAILABLE,
                "vin",
                _(
                    "This car is not available to this dealer "
                    "(taken, delivered or in another dealer's stock)."
                ),
                status=409,
            )
        locked.vehicle = vehicle
        locked.promised_delivery_date = clock.local_now().date() + timedelta(days=policy.delivery_days())
        locked.updated_at = clock.now()
        locked.save(update_fields=["vehicle", "promised_delivery_date", "updated_at"])
        locked = order_transition(
            order=locked,
            to_status=OrderStatus.ALLOCATED,
            actor=actor,
            reason="allocated",
            vin=vehicle.vin,
            promised_delivery_date=locked.promised_delivery_date.isoformat(),
        )
        order_event(
            "order.vehicle_allocated",
            locked,
            actor=actor,
            vin=vehicle.vin,
            maker_stock=vehicle.dealer_id is None,
        )
        # A final payment that arrived early completes the step at once.
        return order_advance_by_money(locked, actor=actor)
