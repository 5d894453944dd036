"""Reads of orders, stock and limited editions: what the API, the pages and other apps call."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from forecourt.catalog.selectors import configuration_quote
from forecourt.core import clock
from forecourt.core.errors import DomainError, NotFound
from forecourt.core.money import Money
from forecourt.dealers.models import City, Dealer
from forecourt.dealers.selectors import dealer_nearest
from forecourt.orders.access import order_not_found, orders_visible_to_buyer, orders_visible_to_staff
from forecourt.orders.errors import OrderErrorCode, field_error
from forecourt.orders.models import (
    EditionHold,
    EditionStock,
    HoldStatus,
    LimitedEdition,
    Order,
    OrderStatus,
    OrderStatusChange,
    PaymentStage,
    Vehicle,
    VehicleStatus,
)

S = OrderStatus
_ORDER_RELATED = ("buyer", "dealer", "dealer__city", "city", "trim", "trim__model", "vehicle", "edition")


def _with_related(orders: QuerySet[Order]) -> QuerySet[Order]:
    return orders.select_related(*_ORDER_RELATED, "configuration")


_CODE = re.compile(r"^[-a-zA-Z0-9_]{1,40}$")
_NUMBER = re.compile(r"^[0-9A-Za-z]{1,20}$")


def _checked_number(number: Any) -> str:
    """An order number as typed (any case); anything else matches no order (and never reaches SQL)."""
    cleaned = number.strip() if isinstance(number, str) else ""
    return cleaned.upper() if _NUMBER.match(cleaned) else ""


def _checked_status(status: str | None) -> str | None:
    if status in (None, ""):
        return None
    if status not in OrderStatus.values:
        raise field_error(
            OrderErrorCode.TRANSITION_NOT_ALLOWED,
            "status",
            _("Choose one of: %(allowed)s.") % {"allowed": ", ".join(OrderStatus.values)},
        )
    return status


# The buyer's side.
def orders_for_buyer(*, buyer: Any) -> QuerySet[Order]:
    """The buyer's own orders, newest first."""
    return _with_related(orders_visible_to_buyer(buyer)).order_by("-created_at", "-id")


def order_get_for_buyer(*, buyer: Any, number: str) -> Order:
    """One of the buyer's own orders by number; anyone else's (or none) is NotFound."""
    order = orders_for_buyer(buyer=buyer).filter(number=_checked_number(number)).first()
    if order is None:
        raise order_not_found()
    return order


# The dealer's side: everything goes through `orders_visible_to_staff`, the one tenant scope.
def orders_for_staff(*, user: Any, status: str | None = None) -> QuerySet[Order]:
    """The orders the staff member's dealer delivers, newest first; optionally of one status."""
    orders = _with_related(orders_visible_to_staff(user))
    wanted = _checked_status(status)
    if wanted is not None:
        orders = orders.filter(status=wanted)
    return orders.order_by("-created_at", "-id")


def order_get_for_staff(*, user: Any, number: str) -> Order:
    """One order of the staff member's dealer by number; another dealer's (or none) is NotFound."""
    order = orders_for_staff(user=user).filter(number=_checked_number(number)).first()
    if order is None:
        raise order_not_found()
    return order


def orders_for_dealer(*, dealer: Dealer, status: str | None = None) -> QuerySet[Order]:
    """The orders a dealer delivers (for reports and pages that already hold the staff member's dealer)."""
    orders = _with_related(Order.objects.filter(dealer=dealer))
    wanted = _checked_status(status)
    if wanted is not None:
        orders = orders.filter(status=wanted)
    return orders.order_by("-created_at", "-id")


def order_get_for_dealer(*, dealer: Dealer, number: str) -> Order:
    order = orders_for_dealer(dealer=dealer).filter(number=_checked_number(number)).first()
    if order is None:
        raise order_not_found()
    return order


def order_history(order: Order) -> list[OrderStatusChange]:
    return list(order.status_changes.select_related("actor").order_by("at", "id"))


# Money due.
@dataclass(frozen=True)
class DuePayment:
    stage: str
    amount: Money


def order_due(order: Order) -> DuePayment | None:
    """The payment the order waits for now (stage and exact amount), or None when nothing is due."""
    status = order.effective_status
    stages: dict[str, str] = {
        S.CREATED: PaymentStage.INTENTION,
        S.INTENTION_PAID: PaymentStage.DEPOSIT,
        S.ALLOCATED: PaymentStage.FINAL,
    }
    stage = stages.get(status)
    if stage is None:
        return None
    amount = order.stage_target_fen(stage) - order.paid_fen
    if amount <= 0:
        return None
    return DuePayment(stage=str(stage), amount=Money(amount, order.currency))


def order_amounts(order: Order) -> dict[str, Money]:
    currency = order.currency
    return {
        "vehicle_price": Money(order.vehicle_price_fen, currency),
        "discount": Money(order.discount_fen, currency),
        "total": Money(order.total_fen, currency),
        "intention": Money(order.intention_fen, currency),
        "deposit": Money(order.deposit_fen, currency),
        "final": Money(order.final_fen, currency),
        "paid": Money(order.paid_fen, currency),
        "refunded": Money(order.refunded_fen, currency),
        "balance": Money(order.balance_fen, currency),
    }


# The buyer's task list.
@dataclass(frozen=True)
class OrderTask:
    key: str
    title: str
    # "done", "next" (the buyer's move), "waiting" (the dealer's move), "needed" (later), "cancelled".
    state: str
    detail: dict[str, Any] = field(default_factory=dict)


def _hold_of(order: Order) -> EditionHold | None:
    if order.edition_id is None:
        return None
    return EditionHold.objects.filter(order=order).first()


def order_tasks(order: Order) -> list[OrderTask]:
    """What is done, what is next and what is still needed, in the order the buyer meets them."""
    status = order.effective_status
    reached: dict[str, int] = {
        S.CREATED: 0,
        S.INTENTION_PAID: 1,
        S.DEPOSIT_PAID: 2,
        S.LOCKED: 3,
        S.ALLOCATED: 4,
        S.FINAL_PAID: 5,
        S.READY_FOR_DELIVERY: 6,
        S.DELIVERED: 7,
    }
    step = reached.get(status, -1)
    hold = _hold_of(order)
    money = order_amounts(order)
    rows: list[tuple[str, str, int, str, dict[str, Any]]] = [
        (
            "intention",
            _("Pay the intention money"),
            1,
            "buyer",
            {
                "amount": money["intention"],
                "hold_expires_at": hold.expires_at if hold and status == S.CREATED else None,
                "hold_status": hold.effective_status if hold else None,
            },
        ),
        ("deposit", _("Pay the deposit"), 2, "buyer", {"amount": money["deposit"] - money["intention"]}),
        (
            "lock",
            _("Lock the configuration"),
            3,
            "buyer",
            {"lock_deadline": order.lock_deadline, "locked_at": order.locked_at},
        ),
        (
            "allocation",
            _("Car allocated by the dealer"),
            4,
            "dealer",
            {
                "vin": order.vehicle.vin if order.vehicle else None,
                "promised_delivery_date": order.promised_delivery_date,
            },
        ),
        ("final", _("Pay the final payment"), 5, "buyer", {"amount": money["final"]}),
        (
            "delivery_booking",
            _("Book the delivery appointment"),
            6,
            "dealer",
            {"delivery_at": order.delivery_at},
        ),
        ("documents", _("Bring your ID card and driving licence to the delivery"), 7, "buyer", {}),
        (
            "delivery",
            _("Take delivery"),
            7,
            "dealer",
            {
                "delivery_at": order.delivery_at,
                "delivered_at": order.delivered_at,
                "dealer": order.dealer.name,
            },
        ),
    ]
    tasks: list[OrderTask] = []
    next_given = False
    for key, title, done_at_step, actor, detail in rows:
        if status == S.CANCELLED:
            state = "done" if _was_done(order, key) else "cancelled"
        elif step >= done_at_step:
            state = "done"
        elif not next_given:
            state = "next" if actor == "buyer" else "waiting"
            next_given = True
        else:
            state = "needed"
        tasks.append(OrderTask(key=key, title=str(title), state=state, detail=detail))
    return tasks


def _was_done(order: Order, key: str) -> bool:
    return {
        "intention": order.paid_fen >= order.intention_fen and order.paid_fen > 0,
        "deposit": order.paid_fen >= order.deposit_fen and order.paid_fen > 0,
        "lock": order.locked_at is not None,
        "final": order.paid_fen >= order.total_fen,
    }.get(key, False)


# Stock and delivery.
def vehicles_for_order(*, order: Order) -> list[Vehicle]:
    """Available cars that match the order exactly, from its dealer's stock first, then the maker's."""
    candidates = (
        Vehicle.objects.filter(trim_id=order.trim_id, status=VehicleStatus.AVAILABLE)
        .filter(Q(dealer_id=order.dealer_id) | Q(dealer__isnull=True))
        .order_by("dealer_id", "vin")
    )
    wanted = sorted(order.option_codes)
    matching = [vehicle for vehicle in candidates if sorted(vehicle.option_codes) == wanted]
    # The dealer's own cars before the maker's (a null dealer sorts first in some databases).
    return sorted(matching, key=lambda vehicle: (vehicle.dealer_id is None, vehicle.vin))


def delivery_dealer_suggest(*, city: City) -> Dealer | None:
    """The active delivering dealer nearest the city's centre, or None when no dealer delivers."""
    nearest = dealer_nearest(latitude=city.latitude, longitude=city.longitude, service="delivery", limit=1)
    return nearest[0].dealer if nearest else None


# Limited editions.
@dataclass(frozen=True)
class EditionAvailability:
    stock: EditionStock
    units_total: int
    units_free: int
    units_held: int
    units_sold: int
    sold_out: bool
    first_hold_expires_at: datetime | None


@dataclass(frozen=True)
class EditionOffer:
    edition: LimitedEdition
    price: Money | None
    stocks: list[EditionAvailability]

    @property
    def units_total(self) -> int:
        return sum(stock.units_total for stock in self.stocks)

    @property
    def units_free(self) -> int:
        return sum(stock.units_free for stock in self.stocks)

    @property
    def sold_out(self) -> bool:
        return all(stock.sold_out for stock in self.stocks)


def edition_get(*, code: str, on_sale_only: bool = True) -> LimitedEdition:
    """A limited edition by code; NotFound when there is none (or it is not on sale, when asked)."""
    edition = (
        LimitedEdition.objects.select_related("trim", "trim__model").filter(code=code).first()
        if isinstance(code, str) and _CODE.match(code)
        else None
    )
    if edition is None or (on_sale_only and not edition.is_on_sale()):
        raise NotFound(_("No such limited edition on sale."))
    return edition


# Sold out is final but for a cancellation returning a unit. In a rush the same buyers ask again and
# again: each process answers them from memory for this long after a read showed the stock sold out,
# without touching the database. A unit returned meanwhile is offered this much later, never oversold.
SOLD_OUT_MEMORY_SECONDS = 2.0
_sold_out_seen: dict[tuple[str, str], tuple[float, int]] = {}


def edition_sold_out_remember(*, code: str, city_code: str | None, stock: EditionStock) -> None:
    """Note that a read found this edition (for this city) sold out."""
    _sold_out_seen[(code, city_code or "")] = (time.monotonic() + SOLD_OUT_MEMORY_SECONDS, stock.units_total)


def edition_sold_out_recently(*, code: str, city_code: str | None) -> DomainError | None:
    """The sold-out answer if a read in this process found it sold out a moment ago, else None."""
    seen = _sold_out_seen.get((code, city_code or ""))
    if seen is None or seen[0] <= time.monotonic():
        return None
    return DomainError(
        OrderErrorCode.SOLD_OUT,
        _("This limited edition is sold out."),
        status=409,
        details={"edition": code, "units_total": seen[1]},
    )


def edition_sold_out_forget() -> None:
    """Forget what was seen (tests, and after ops add units)."""
    _sold_out_seen.clear()


def edition_stock_for(*, edition: LimitedEdition, city: City | None) -> EditionStock:
    """The units for `city` (its own stock, else the national pool); a city is needed if there is no pool."""
    stocks = {
        stock.city_id: stock for stock in EditionStock.objects.filter(edition=edition).select_related("city")
    }
    if city is not None and city.pk in stocks:
        stock = stocks[city.pk]
    elif None in stocks:
        stock = stocks[None]
    elif city is None:
        raise field_error(
            OrderErrorCode.CITY_REQUIRED, "city", _("Choose the city you will take delivery in.")
        )
    else:
        raise field_error(
            OrderErrorCode.EDITION_NOT_IN_CITY,
            "city",
            _("This limited edition is not offered in %(city)s.") % {"city": city.display_name},
        )
    stock.edition = edition
    return stock


def edition_availability(*, stock: EditionStock, at: datetime | None = None) -> EditionAvailability:
    """Units free as a buyer would find them now: holds past their time count as free (expired when read)."""
    moment = at or clock.now()
    overdue = EditionHold.objects.filter(stock=stock, status=HoldStatus.HELD, expires_at__lte=moment).count()
    held = max(stock.units_held - overdue, 0)
    first = (
        EditionHold.objects.filter(stock=stock, status=HoldStatus.HELD, expires_at__gt=moment)
        .order_by("expires_at")
        .values_list("expires_at", flat=True)
        .first()
    )
    return EditionAvailability(
        stock=stock,
        units_total=stock.units_total,
        units_free=stock.units_total - stock.units_sold - held,
        units_held=held,
        units_sold=stock.units_sold,
        sold_out=stock.is_sold_out,
        first_hold_expires_at=first,
    )


def editions_on_sale(*, at: datetime | None = None) -> list[EditionOffer]:
    """Limited editions on sale now, each with its price and the units left per city (or nationally)."""
    moment = at or clock.now()
    editions = (
        LimitedEdition.objects.filter(is_active=True, sale_starts_at__lte=moment)
        .filter(Q(sale_ends_at__isnull=True) | Q(sale_ends_at__gt=moment))
        .select_related("trim", "trim__model")
    )
    return [_offer(edition, moment) for edition in editions]


def edition_offer(*, code: str) -> EditionOffer:
    """One limited edition on sale with its price and units left; NotFound otherwise."""
    edition = edition_get(code=code)
    return _offer(edition, clock.now())


def _offer(edition: LimitedEdition, moment: datetime) -> EditionOffer:
    try:
        result = configuration_quote(trim_code=edition.trim.code, option_codes=edition.option_codes)
        price = result.total if result.valid else None
    except DomainError:
        price = None
    stocks = [
        edition_availability(stock=stock, at=moment)
        for stock in EditionStock.objects.filter(edition=edition)
        .select_related("city")
        .order_by("city__code")
    ]
    return EditionOffer(edition=edition, price=price, stocks=stocks)


def late_delivery_days(order: Order, *, at: datetime | None = None) -> list[date]:
    """The whole days the order is late by now (or was, when delivered or cancelled)."""
    end = order.delivered_at or order.cancelled_at or at or clock.now()
    return order.late_days_until(end)
