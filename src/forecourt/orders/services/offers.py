"""Coupons on an order: placed with the order, added or removed by the buyer before the lock, re-quoted
when the configuration changes, and released or voided when the order is cancelled (see transitions).

The order records exactly the coupons used and what each gave (`applied_offers`), their sum
(`discount_fen`) and the floor the total may not go below (`floor_fen`, also a CHECK on the row).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.offers import services as offer_services
from forecourt.orders.access import ensure_buyer
from forecourt.orders.errors import OrderErrorCode
from forecourt.orders.models import BEFORE_LOCK, Order
from forecourt.orders.services.transitions import order_event, order_lock_row, order_settle_lock

OFFER_FIELDS = ["discount_fen", "applied_offers", "total_fen", "floor_fen", "updated_at"]


def order_offer_codes(order: Order) -> list[str]:
    """The codes applied to the order, in the order they were applied (the quote's stable order)."""
    return [str(record.get("code", "")) for record in order.applied_offers or [] if record.get("code")]


def order_offers_quote(
    *, order: Order, codes: Iterable[str], trim: Any = None, vehicle_price_fen: int | None = None
) -> offer_services.OfferQuote:
    """What `codes` would give this order (or the order with another trim and price): a preview, no writes."""
    trim = trim or order.trim
    return offer_services.offers_quote(
        holder=order.buyer,
        codes=codes,
        trim_code=trim.code,
        model_code=trim.model.code,
        city_code=order.city.code,
        dealer_public_id=order.dealer.public_id,
        vehicle_price_fen=order.vehicle_price_fen if vehicle_price_fen is None else vehicle_price_fen,
        order_reference=order.number,
    )


def order_offers_write(order: Order, codes: Iterable[str], *, release_refused: bool = False) -> Order:
    """Inside the order's transaction (row locked): apply `codes` to the order as it stands now and set
    its discount, coupons, total and floor (not saved: the caller saves with OFFER_FIELDS)."""
    quote = offer_services.vouchers_apply_to_order(
        holder=order.buyer,
        codes=codes,
        order_reference=order.number,
        dealer=order.dealer,
        trim_code=order.trim.code,
        model_code=order.trim.model.code,
        city_code=order.city.code,
        vehicle_price_fen=order.vehicle_price_fen,
        release_refused=release_refused,
    )
    order.discount_fen = quote.discount_fen
    order.applied_offers = quote.records
    order.total_fen = quote.total_fen
    order.floor_fen = quote.floor_fen
    order.updated_at = clock.now()
    return order


def order_offers_apply(*, order: Order, codes: list[str], actor: Any) -> Order:
    """Before the lock, the buyer sets the order's coupons (exactly `codes`; an empty list removes all)."""
    ensure_buyer(actor, order)
    with transaction.atomic():
        locked = order_settle_lock(order_lock_row(order), actor=actor)
        if locked.is_closed or locked.effective_status not in BEFORE_LOCK:
            raise DomainError(
                OrderErrorCode.CHANGE_WINDOW_CLOSED,
                _("The order is locked: its coupons can no longer change."),
                status=409,
            )
        before = list(locked.applied_offers or [])
        old_total = locked.total_fen
        order_offers_write(locked, codes)
        if locked.total_fen < max(locked.paid_fen, locked.deposit_fen):
            raise DomainError(
                OrderErrorCode.INVALID_AMOUNT,
                _("With these coupons the total would be less than what is already paid or the deposit."),
                status=409,
                details={"total_fen": locked.total_fen, "paid_fen": locked.paid_fen},
            )
        locked.save(update_fields=OFFER_FIELDS)
        if before != locked.applied_offers:
            order_event(
                "order.offers_changed",
                locked,
                actor=actor,
                codes=order_offer_codes(locked),
                discount_fen=locked.discount_fen,
                old_total_fen=old_total,
                total_fen=locked.total_fen,
                floor_fen=locked.floor_fen,
            )
    return locked
