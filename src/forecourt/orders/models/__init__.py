"""The orders app's models: orders and their history, cars in stock, limited editions and holds."""

from forecourt.orders.models.editions import EditionHold, EditionStock, HoldStatus, LimitedEdition
from forecourt.orders.models.order import (
    ALLOWED_TRANSITIONS,
    BEFORE_LOCK,
    CLOSED_STATUSES,
    LIFECYCLE,
    LOCKED_OR_LATER,
    PURPOSE_PREFIX,
    CancelReason,
    Order,
    OrderChange,
    OrderLateDay,
    OrderPayment,
    OrderRefund,
    OrderStatus,
    OrderStatusChange,
    PaymentStage,
    new_order_number,
)
from forecourt.orders.models.vehicles import Vehicle, VehicleStatus

__all__ = [
    "ALLOWED_TRANSITIONS",
    "BEFORE_LOCK",
    "CLOSED_STATUSES",
    "LIFECYCLE",
    "LOCKED_OR_LATER",
    "PURPOSE_PREFIX",
    "CancelReason",
    "EditionHold",
    "EditionStock",
    "HoldStatus",
    "LimitedEdition",
    "Order",
    "OrderChange",
    "OrderLateDay",
    "OrderPayment",
    "OrderRefund",
    "OrderStatus",
    "OrderStatusChange",
    "PaymentStage",
    "Vehicle",
    "VehicleStatus",
    "new_order_number",
]
