"""Who may see and work an order: the one tenant-scoping helper and the checks services make.

An order of another dealer (or another buyer) is answered as "not found" (404), never "forbidden",
so its existence does not leak across tenants.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from forecourt.accounts.auth import is_ops as is_ops  # one definition, used here by name
from forecourt.accounts.models import DEALER_ROLES, Role
from forecourt.core.errors import CoreErrorCode, DomainError, NotFound
from forecourt.orders.models import Order


def order_not_found() -> NotFound:
    return NotFound(_("No such order."))


def is_order_staff(user: Any) -> bool:
    """Dealer staff bound to a dealer (sales, service and managers all take part in a delivery)."""
    return (
        bool(getattr(user, "is_authenticated", False))
        and getattr(user, "role", None) in DEALER_ROLES
        and getattr(user, "dealer_id", None) is not None
    )


def orders_visible_to_staff(user: Any) -> QuerySet[Order]:
    """THE tenant scope: the orders a dealer's staff may see are those their dealer delivers."""
    if not is_order_staff(user):
        return Order.objects.none()
    return Order.objects.filter(dealer_id=user.dealer_id)


def orders_visible_to_buyer(user: Any) -> QuerySet[Order]:
    """A buyer sees their own orders and nobody else's."""
    if not getattr(user, "is_authenticated", False):
        return Order.objects.none()
    return Order.objects.filter(buyer_id=user.pk)


def ensure_staff_of_order_dealer(user: Any, order: Order) -> None:
    """The user works at the order's delivering dealer; anything else is a 404."""
    if not is_order_staff(user) or user.dealer_id != order.dealer_id:
        raise order_not_found()


def ensure_buyer(user: Any, order: Order) -> None:
    if not getattr(user, "is_authenticated", False) or order.buyer_id != user.pk:
        raise order_not_found()


def ensure_buyer_or_staff(user: Any, order: Order) -> None:
    if getattr(user, "pk", None) is not None and order.buyer_id == user.pk:
        return
    if is_ops(user):
        return
    ensure_staff_of_order_dealer(user, order)


def ensure_consumer(user: Any) -> None:
    if not getattr(user, "is_authenticated", False) or getattr(user, "role", None) != Role.CONSUMER:
        raise DomainError(
            CoreErrorCode.FORBIDDEN, _("Only a customer account can place an order."), status=403
        )
