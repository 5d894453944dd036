"""The API's JSON shapes of orders, holds, editions and cars (plain JSON: an answer may be stored and
replayed unchanged by the idempotency layer)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from forecourt.catalog.language import in_language
from forecourt.core import clock
from forecourt.core.money import Money
from forecourt.orders.models import EditionHold, Order, OrderStatus, Vehicle
from forecourt.orders.selectors import (
    EditionAvailability,
    EditionOffer,
    order_amounts,
    order_due,
    order_history,
    order_tasks,
)


def _json(value: Any) -> Any:
    if isinstance(value, Money):
        return value.as_dict()
    if isinstance(value, datetime):
        return value.astimezone(clock.SHANGHAI).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json(item) for item in value]
    return value


def _status_label(status: str) -> str:
    return str(OrderStatus(status).label) if status in OrderStatus.values else status


def hold_out(hold: EditionHold | None) -> dict[str, Any] | None:
    if hold is None:
        return None
    return {
        "status": hold.effective_status,
        "expires_at": _json(hold.expires_at),
        "city": hold.stock.city.code if hold.stock.city_id and hold.stock.city else None,
    }


def order_out(order: Order, *, for_staff: bool = False) -> dict[str, Any]:
    """One order as the buyer (or the delivering dealer's staff) sees it."""
    status = order.effective_status
    due = order_due(order)
    hold = (
        EditionHold.objects.select_related("stock__city").filter(order=order).first()
        if order.edition_id
        else None
    )
    body: dict[str, Any] = {
        "number": order.number,
        "status": status,
        "status_label": _status_label(status),
        "created_at": _json(order.created_at),
        "model": {"code": order.trim.model.code, "name": order.trim.model.display_name},
        "trim": {"code": order.trim.code, "name": order.trim.display_name},
        "option_codes": list(order.option_codes),
        "lines": [
            {
                "code": line.get("code", ""),
                "name": in_language(line.get("name", ""), line.get("name_en", "")),
                "price": {"amount": int(line.get("price_fen", 0)), "currency": order.currency},
            }
            for line in order.lines
        ],
        "price_list_version": order.price_list_version,
        "applied_offers": list(order.applied_offers),
        "discount": {"amount": order.discount_fen, "currency": order.currency},
        "floor": {"amount": order.floor_fen, "currency": order.currency},
        "configuration": order.configuration.share_code
        if order.configuration_id and order.configuration
        else None,
        "edition": order.edition.code if order.edition_id and order.edition else None,
        "dealer": {
            "id": order.dealer.public_id,
            "name": order.dealer.name,
            "city": order.dealer.city.code,
            "address": order.dealer.address,
        },
        "city": order.city.code,
        "total": order.total.as_dict(),
        "amounts": _json(order_amounts(order)),
        "due": {"stage": due.stage, "amount": due.amount.as_dict()} if due else None,
        "lock_deadline": _json(order.lock_deadline),
        "locked_at": _json(order.locked_at),
        "vehicle": {"vin": order.vehicle.vin} if order.vehicle_id and order.vehicle else None,
        "promised_delivery_date": _json(order.promised_delivery_date),
        "delivery_at": _json(order.delivery_at),
        "delivered_at": _json(order.delivered_at),
        "cancelled_at": _json(order.cancelled_at),
        "cancel_reason": order.cancel_reason or None,
        "hold": hold_out(hold),
        "tasks": [
            {"key": task.key, "title": task.title, "state": task.state, "detail": _json(task.detail)}
            for task in order_tasks(order)
        ],
    }
    if for_staff:
        body["buyer"] = {
            "id": order.buyer.public_id,
            "name": order.buyer.display_name,
            "phone": order.buyer.masked_phone,
        }
        body["history"] = [
            {
                "from": change.from_status or None,
                "to": change.to_status,
                "at": _json(change.at),
                "by": change.actor.display_name if change.actor else None,
                "reason": change.reason,
            }
            for change in order_history(order)
        ]
    return body


def order_summary_out(order: Order) -> dict[str, Any]:
    status = order.effective_status
    return {
        "number": order.number,
        "status": status,
        "status_label": _status_label(status),
        "created_at": _json(order.created_at),
        "trim": {"code": order.trim.code, "name": order.trim.display_name},
        "edition": order.edition.code if order.edition_id and order.edition else None,
        "dealer": {"id": order.dealer.public_id, "name": order.dealer.name},
        "total": order.total.as_dict(),
        "paid": order.paid.as_dict(),
        "vin": order.vehicle.vin if order.vehicle_id and order.vehicle else None,
    }


def vehicle_out(vehicle: Vehicle) -> dict[str, Any]:
    return {
        "vin": vehicle.vin,
        "trim": vehicle.trim.code,
        "option_codes": list(vehicle.option_codes),
        "maker_stock": vehicle.dealer_id is None,
        "status": vehicle.status,
    }


def availability_out(availability: EditionAvailability) -> dict[str, Any]:
    stock = availability.stock
    return {
        "city": stock.city.code if stock.city_id and stock.city else None,
        "units_total": availability.units_total,
        "units_free": availability.units_free,
        "units_held": availability.units_held,
        "units_sold": availability.units_sold,
        "sold_out": availability.sold_out,
        "first_hold_expires_at": _json(availability.first_hold_expires_at),
    }


def edition_out(offer: EditionOffer) -> dict[str, Any]:
    edition = offer.edition
    return {
        "code": edition.code,
        "name": edition.display_name,
        "description": edition.display_description,
        "model": edition.trim.model.code,
        "trim": edition.trim.code,
        "option_codes": list(edition.option_codes),
        "price": offer.price.as_dict() if offer.price else None,
        "hold_minutes": edition.hold_minutes,
        "sale_starts_at": _json(edition.sale_starts_at),
        "sale_ends_at": _json(edition.sale_ends_at),
        "units_total": offer.units_total,
        "units_free": offer.units_free,
        "sold_out": offer.sold_out,
        "stocks": [availability_out(stock) for stock in offer.stocks],
    }
