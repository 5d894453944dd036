"""Placing an order (from a saved configuration or a limited edition) and changing it before the lock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from forecourt.catalog.configurator import Quote, quote
from forecourt.catalog.models import PriceList, SavedConfiguration
from forecourt.catalog.selectors import configuration_quote, price_list_current
from forecourt.catalog.snapshots import trim_snapshot
from forecourt.core import clock
from forecourt.core.errors import CoreErrorCode, DomainError
from forecourt.dealers.models import City, Dealer
from forecourt.orders import policy
from forecourt.orders.access import ensure_buyer, ensure_consumer
from forecourt.orders.errors import OrderErrorCode, field_error
from forecourt.orders.models import (
    EditionHold,
    EditionStock,
    HoldStatus,
    LimitedEdition,
    Order,
    OrderChange,
    OrderStatus,
    OrderStatusChange,
)
from forecourt.orders.selectors import delivery_dealer_suggest, edition_stock_for
from forecourt.orders.services.holds import all_units_held_error, hold_take, holds_overdue, sold_out_error
from forecourt.orders.services.offers import OFFER_FIELDS, order_offer_codes, order_offers_write
from forecourt.orders.services.transitions import order_event, order_lock_row, order_settle_lock


def _check_dealer(dealer: Dealer | None, *, city: City | None) -> Dealer:
    if dealer is None:
        if city is None:
            raise field_error(
                OrderErrorCode.NO_DELIVERING_DEALER,
                "dealer",
                _("Choose the dealer who will deliver the car."),
            )
        suggested = delivery_dealer_suggest(city=city)
        if suggested is None:
            raise field_error(
                OrderErrorCode.NO_DELIVERING_DEALER,
                "dealer",
                _("No dealer delivers near %(city)s yet: choose one yourself.") % {"city": city.display_name},
            )
        return suggested
    if not dealer.is_active or not dealer.offers_delivery:
        raise field_error(
            OrderErrorCode.DEALER_DOES_NOT_DELIVER,
            "dealer",
            _("%(dealer)s does not deliver cars.") % {"dealer": dealer.name},
        )
    return dealer


def _check_lock_deadline(lock_deadline: date | None) -> date:
    today = clock.local_now().date()
    if lock_deadline is None:
        return today + timedelta(days=policy.lock_days())
    latest = today + timedelta(days=policy.lock_max_days())
    if not today <= lock_deadline <= latest:
        raise field_error(
            OrderErrorCode.INVALID_LOCK_DEADLINE,
            "lock_deadline",
            _("Choose a lock date from today to %(latest)s.") % {"latest": latest.isoformat()},
        )
    return lock_deadline


def intention_and_deposit(total_fen: int, edition: LimitedEdition | None = None) -> tuple[int, int]:
    """The intention money and the whole deposit (fen) an order of `total_fen` asks for."""
    intention = edition.intention_fen if edition and edition.intention_fen is not None else None
    deposit = edition.deposit_fen if edition and edition.deposit_fen is not None else None
    deposit = policy.deposit_fen() if deposit is None else deposit
    intention = policy.intention_fen() if intention is None else intention
    # A deposit never exceeds the car, and the intention money never exceeds the deposit.
    deposit = min(deposit, total_fen)
    return min(intention, deposit), deposit


def _quote_invalid(result: Quote) -> DomainError:
    return DomainError(
        OrderErrorCode.INVALID_CONFIGURATION,
        _("This configuration cannot be ordered: it breaks the catalogue's rules."),
        status=422,
        details=[error.as_dict() for error in result.errors],
    )


def _checked_configuration(configuration: SavedConfiguration) -> SavedConfiguration:
    trim = configuration.trim
    if not (trim.is_active and trim.model.is_active):
        raise field_error(
            OrderErrorCode.INVALID_CONFIGURATION, "configuration", _("This car is no longer on sale.")
        )
    current = price_list_current()
    if current is None or current.version != configuration.price_list_version:
        raise DomainError(
            OrderErrorCode.PRICE_LIST_CHANGED,
            _(
                "Prices have changed since this configuration was saved. "
                "Save it again to order at today's price."
            ),
            status=409,
            details={
                "saved_under": configuration.price_list_version,
                "current": current.version if current else None,
            },
        )
    return configuration


def order_place(
    *,
    buyer: Any,
    configuration: SavedConfiguration | None = None,
    edition: LimitedEdition | None = None,
    city: City | None = None,
    dealer: Dealer | None = None,
    lock_deadline: date | None = None,
    voucher_codes: list[str] | None = None,
    before_commit: Callable[[Order], None] | None = None,
) -> Order:
    """Place an order from a saved configuration, or for a limited edition with a hold on one unit.

    `voucher_codes` are the buyer's coupons to apply: any refused is a 409 with its reason and no order.

    `before_commit(order)` runs in the transaction once the order is written and before an edition's unit
    is counted: an answer built there is stored (idempotency) without holding the stock row meanwhile.
    """
    ensure_consumer(buyer)
    if (configuration is None) == (edition is None):
        raise field_error(
            CoreErrorCode.INVALID,
            "configuration",
            _("Order either a saved configuration or a limited edition."),
        )
    stock: EditionStock | None = None
    if edition is not None:
        stock = edition_stock_for(edition=edition, city=city)
        # Sold out is answered from one read, before any write or lock; so is "every unit is held" when
        # no hold is overdue (a unit freed a moment later is like a buyer arriving a moment earlier).
        if stock.is_sold_out:
            raise sold_out_error(stock)
        if stock.units_free <= 0 and not holds_overdue(stock=stock):
            raise all_units_held_error(stock)
        if stock.city_id is not None:
            city = stock.city
        result = configuration_quote(trim_code=edition.trim.code, option_codes=edition.option_codes)
        if not result.valid:
            raise _quote_invalid(result)
        trim = edition.trim
    else:
        assert configuration is not None
        _checked_configuration(configuration)
        result = None
        trim = configuration.trim
    delivering = _check_dealer(dealer, city=city)
    if stock is not None and stock.city_id is not None and delivering.city_id != stock.city_id:
        raise field_error(
            OrderErrorCode.EDITION_NOT_IN_CITY,
            "dealer",
            _("These units are for %(city)s: choose a dealer there.") % {"city": str(stock.city)},
        )
    deadline = _check_lock_deadline(lock_deadline)
    if result is not None:
        lines = [line.as_record() for line in result.lines]
        option_codes = list(result.option_codes)
        vehicle_price = result.total.amount
        version = result.price_list_version
        currency = result.total.currency
    else:
        assert configuration is not None
        lines = list(configuration.lines)
        option_codes = list(configuration.option_codes)
        vehicle_price = configuration.total_fen
        version = configuration.price_list_version
        currency = configuration.currency
    intention, deposit = intention_and_deposit(vehicle_price, edition)
    try:
        return _create(
            buyer=buyer,
            configuration=configuration,
            edition=edition,
            stock=stock,
            trim=trim,
            option_codes=option_codes,
            lines=lines,
            version=version,
            currency=currency,
            vehicle_price=vehicle_price,
            intention=intention,
            deposit=deposit,
            dealer=delivering,
            city=city or delivering.city,
            deadline=deadline,
            voucher_codes=list(voucher_codes or []),
            before_commit=before_commit,
        )
    except IntegrityError:
        if stock is None:
            raise
        # The same buyer's second order for the edition raced the first: one live hold per buyer.
        raise DomainError(
            OrderErrorCode.ALREADY_ORDERED,
            _("You already have an order for this limited edition."),
            status=409,
        ) from None


def _create(
    *,
    buyer: Any,
    configuration: SavedConfiguration | None,
    edition: LimitedEdition | None,
    stock: EditionStock | None,
    dealer: Dealer,
    city: City,
    deadline: date,
    voucher_codes: list[str],
    before_commit: Callable[[Order], None] | None,
    **fields: Any,
) -> Order:
    moment = clock.now()
    with transaction.atomic():
        if stock is not None:
            live = EditionHold.objects.filter(
                stock=stock, buyer_id=buyer.pk, status__in=[HoldStatus.HELD, HoldStatus.CONFIRMED]
            ).select_related("order")
            for hold in live:
                if not hold.is_expired(moment):
                    raise DomainError(
                        OrderErrorCode.ALREADY_ORDERED,
                        _("You already have an order for this limited edition."),
                        status=409,
                        details={"order": hold.order.number},
                    )
        order = Order.objects.create(
            buyer=buyer,
            configuration=configuration,
            edition=edition,
            trim=fields["trim"],
            option_codes=fields["option_codes"],
            lines=fields["lines"],
            price_list_version=fields["version"],
            currency=fields["currency"],
            vehicle_price_fen=fields["vehicle_price"],
            discount_fen=0,
            applied_offers=[],
            total_fen=fields["vehicle_price"],
            intention_fen=fields["intention"],
            deposit_fen=fields["deposit"],
            dealer=dealer,
            city=city,
            status=OrderStatus.CREATED,
            lock_deadline=deadline,
            created_at=moment,
            updated_at=moment,
        )
        # The coupons need the order's number; the deposit is then fitted within the discounted total.
        order_offers_write(order, voucher_codes)
        order.intention_fen, order.deposit_fen = intention_and_deposit(order.total_fen, edition)
        order.save(update_fields=[*OFFER_FIELDS, "intention_fen", "deposit_fen"])
        OrderStatusChange.objects.create(
            order=order,
            from_status="",
            to_status=OrderStatus.CREATED,
            actor=buyer,
            reason="placed",
            at=moment,
        )

        def record(hold_payload: dict[str, Any]) -> None:
            order_event(
                "order.created",
                order,
                actor=buyer,
                buyer=buyer.public_id,
                dealer=dealer.public_id,
                trim=order.trim.code,
                total_fen=order.total_fen,
                discount_fen=order.discount_fen,
                vouchers=order_offer_codes(order),
                price_list_version=order.price_list_version,
                configuration=configuration.share_code if configuration else None,
                **hold_payload,
            )
            if before_commit is not None:
                before_commit(order)

        if stock is None:
            record({})
        else:
            assert edition is not None
            # The unit is counted last (see hold_take): the event and the caller's answer come first.
            hold_take(
                stock=stock,
                order=order,
                minutes=edition.hold_minutes,
                before_unit=lambda hold: record(
                    {
                        "edition": edition.code,
                        "hold_expires_at": hold.expires_at.astimezone(clock.SHANGHAI).isoformat(),
                    }
                ),
            )
    return order


def requote_under(*, version: int, trim_code: str, option_codes: list[str]) -> Quote:
    """Price a configuration under the price list with `version` (the one an order was placed under)."""
    price_list = PriceList.objects.filter(version=version).first()
    if price_list is None:
        raise DomainError(
            OrderErrorCode.PRICE_LIST_CHANGED, _("The order's price list no longer exists."), status=409
        )
    return quote(trim_snapshot(trim_code, price_list=price_list), option_codes)


def order_change_configuration(*, order: Order, configuration: SavedConfiguration, actor: Any) -> Order:
    """Before the lock, swap the order's configuration, repriced under the order's own price list."""
    ensure_buyer(actor, order)
    with transaction.atomic():
        locked = order_settle_lock(order_lock_row(order), actor=actor)
        if locked.edition_id is not None:
            raise DomainError(
                OrderErrorCode.CHANGE_WINDOW_CLOSED,
                _("A limited edition is built to one specification and cannot be changed."),
                status=409,
            )
        if not locked.can_change_configuration():
            raise DomainError(
                OrderErrorCode.CHANGE_WINDOW_CLOSED,
                _("The order is locked: its configuration can no longer change."),
                status=409,
            )
        result = requote_under(
            version=locked.price_list_version,
            trim_code=configuration.trim.code,
            option_codes=list(configuration.option_codes),
        )
        if not result.valid:
            raise _quote_invalid(result)
        if result.price_list_version != locked.price_list_version:
            raise DomainError(
                OrderErrorCode.PRICE_LIST_CHANGED, _("The order's price list changed."), status=409
            )
        moment = clock.now()
        old: dict[str, Any] = {
            "configuration": locked.configuration,
            "trim_code": locked.trim.code,
            "option_codes": list(locked.option_codes),
            "total_fen": locked.total_fen,
            "codes": order_offer_codes(locked),
        }
        locked.configuration = configuration
        locked.trim = configuration.trim
        locked.option_codes = list(result.option_codes)
        locked.lines = [line.as_record() for line in result.lines]
        locked.vehicle_price_fen = result.total.amount
        # The coupons are quoted again for the new car: one no longer eligible is released (the change
        # page shows this before the buyer confirms), the rest are re-valued under the caps and the floor.
        order_offers_write(locked, old["codes"], release_refused=True)
        new_total = locked.total_fen
        if new_total < max(locked.paid_fen, locked.deposit_fen):
            raise DomainError(
                OrderErrorCode.INVALID_CONFIGURATION,
                _("The new total would be less than the deposit."),
                status=422,
            )
        change = OrderChange.objects.create(
            order=locked,
            old_configuration=old["configuration"],
            new_configuration=configuration,
            old_trim_code=old["trim_code"],
            new_trim_code=configuration.trim.code,
            old_option_codes=old["option_codes"],
            new_option_codes=list(result.option_codes),
            old_total_fen=old["total_fen"],
            new_total_fen=new_total,
            price_list_version=locked.price_list_version,
            actor=actor,
            at=moment,
        )
        locked.updated_at = moment
        locked.save(
            update_fields=[
                "configuration",
                "trim",
                "option_codes",
                "lines",
                "vehicle_price_fen",
                *OFFER_FIELDS,
            ]
        )
        order_event(
            "order.configuration_changed",
            locked,
            actor=actor,
            configuration=configuration.share_code,
            old_total_fen=change.old_total_fen,
            new_total_fen=change.new_total_fen,
            difference_fen=change.difference_fen,
            price_list_version=change.price_list_version,
            vouchers_released=[code for code in old["codes"] if code not in order_offer_codes(locked)],
        )
    return locked


__all__ = ["order_change_configuration", "order_place", "requote_under"]
