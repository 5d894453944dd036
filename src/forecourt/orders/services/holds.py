"""Holds on limited-edition units: taken, confirmed, expired and released by conditional UPDATEs.

The stock row's counters change only in `UPDATE ... WHERE <the invariant still holds>` statements whose
row count says who won, so there is no check-then-act anywhere; the CheckConstraint on EditionStock is
the backstop. A hold's own status changes the same way, and each status change that frees a unit
decrements the counter in the same transaction, so a unit is freed exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.events import event_record
from forecourt.orders.errors import OrderErrorCode
from forecourt.orders.models import EditionHold, EditionStock, HoldStatus, Order

EXPIRE_BATCH = 200


def sold_out_error(stock: EditionStock) -> DomainError:
    return DomainError(
        OrderErrorCode.SOLD_OUT,
        _("This limited edition is sold out."),
        status=409,
        details={
            "edition": stock.edition.code if stock.edition_id else None,
            "units_total": stock.units_total,
        },
    )


def all_units_held_error(stock: EditionStock) -> DomainError:
    first = (
        EditionHold.objects.filter(stock=stock, status=HoldStatus.HELD, expires_at__gt=clock.now())
        .order_by("expires_at")
        .values_list("expires_at", flat=True)
        .first()
    )
    return DomainError(
        OrderErrorCode.ALL_UNITS_HELD,
        _(
            "Every remaining unit is reserved by buyers who are paying now. "
            "Try again when a reservation ends."
        ),
        status=409,
        details={"first_hold_expires_at": first.astimezone(clock.SHANGHAI).isoformat() if first else None},
    )


def holds_overdue(*, stock: EditionStock) -> bool:
    """Whether some hold on the stock has run out without being tidied (its unit is free to take)."""
    return EditionHold.objects.filter(
        stock=stock, status=HoldStatus.HELD, expires_at__lte=clock.now()
    ).exists()


def _take_unit(stock_id: int) -> bool:
    return bool(
        EditionStock.objects.filter(pk=stock_id, units_held__lt=F("units_total") - F("units_sold")).update(
            units_held=F("units_held") + 1
        )
    )


def _hold_expire_one(hold_id: int, stock_id: int) -> bool:
    """Expire one overdue hold and return its unit, once (the conditional status change decides)."""
    moment = clock.now()
    expired = EditionHold.objects.filter(pk=hold_id, status=HoldStatus.HELD, expires_at__lte=moment).update(
        status=HoldStatus.EXPIRED, ended_at=moment
    )
    if expired:
        EditionStock.objects.filter(pk=stock_id, units_held__gt=0).update(units_held=F("units_held") - 1)
    return bool(expired)


def holds_expire(*, stock: EditionStock | None = None, limit: int = EXPIRE_BATCH) -> int:
    """Expire overdue holds (of one stock, or all) and return their units; the sweeper's tidy-up."""
    due = EditionHold.objects.filter(status=HoldStatus.HELD, expires_at__lte=clock.now())
    if stock is not None:
        due = due.filter(stock=stock)
    count = 0
    for hold_id, stock_id in due.order_by("expires_at").values_list("pk", "stock_id")[:limit]:
        with transaction.atomic():
            count += _hold_expire_one(hold_id, stock_id)
    return count


def hold_take(
    *,
    stock: EditionStock,
    order: Order,
    minutes: int,
    before_unit: Callable[[EditionHold], None] | None = None,
) -> EditionHold:
    """Hold one unit for `order` (inside the caller's transaction); 409 sold_out or all_units_held.

    The hold row is written first and the unit counted last: the conditional UPDATE locks the hot stock
    row until commit, so everything else a buyer's request writes or reads (`before_unit`, e.g. building
    the answer) happens before it, and in a rush buyers queue on that row only for the commit itself.
    If no unit is free the caller's transaction rolls back, hold row included.
    """
    stock_id = stock.pk
    # The buyer's own overdue hold on this stock would block a new one (one live hold per buyer).
    for hold_id in EditionHold.objects.filter(
        stock_id=stock_id, buyer_id=order.buyer_id, status=HoldStatus.HELD, expires_at__lte=clock.now()
    ).values_list("pk", flat=True):
        _hold_expire_one(hold_id, stock_id)
    moment = clock.now()
    hold = EditionHold.objects.create(
        stock_id=stock_id,
        order=order,
        buyer_id=order.buyer_id,
        status=HoldStatus.HELD,
        expires_at=moment + timedelta(minutes=minutes),
        created_at=moment,
    )
    if before_unit is not None:
        before_unit(hold)
    taken = _take_unit(stock_id)
    if not taken:
        # Units held by buyers whose time ran out are free: return them and try once more.
        overdue = EditionHold.objects.filter(
            stock_id=stock_id, status=HoldStatus.HELD, expires_at__lte=clock.now()
        ).values_list("pk", flat=True)[:EXPIRE_BATCH]
        if sum(_hold_expire_one(hold_id, stock_id) for hold_id in overdue):
            taken = _take_unit(stock_id)
    if not taken:
        current = EditionStock.objects.select_related("edition").get(pk=stock_id)
        raise sold_out_error(current) if current.is_sold_out else all_units_held_error(current)
    return hold


def hold_confirm(*, hold: EditionHold) -> bool:
    """Turn a hold into a sale when its order is paid (inside the caller's transaction).

    A hold still marked "held" keeps its unit even if its time has just run out (nobody has taken the
    unit yet): the payment wins. An expired hold takes a free unit again if there is one. False when
    there is none: the caller refunds the money and cancels the order.
    """
    moment = clock.now()
    if hold.status == HoldStatus.CONFIRMED:
        return True
    confirmed = EditionHold.objects.filter(pk=hold.pk, status=HoldStatus.HELD).update(
        status=HoldStatus.CONFIRMED, confirmed_at=moment
    )
    if confirmed:
        EditionStock.objects.filter(pk=hold.stock_id, units_held__gt=0).update(
            units_held=F("units_held") - 1, units_sold=F("units_sold") + 1
        )
        return True
    return _hold_retake_sold(hold, moment)


def _sell_free_unit(stock_id: int) -> bool:
    return bool(
        EditionStock.objects.filter(pk=stock_id, units_sold__lt=F("units_total") - F("units_held")).update(
            units_sold=F("units_sold") + 1
        )
    )


def _hold_retake_sold(hold: EditionHold, moment: datetime) -> bool:
    if not EditionHold.objects.filter(pk=hold.pk, status=HoldStatus.EXPIRED).exists():
        return False
    sold = _sell_free_unit(hold.stock_id)
    if not sold:
        overdue = EditionHold.objects.filter(
            stock_id=hold.stock_id, status=HoldStatus.HELD, expires_at__lte=moment
        ).values_list("pk", flat=True)[:EXPIRE_BATCH]
        if sum(_hold_expire_one(hold_id, hold.stock_id) for hold_id in overdue):
            sold = _sell_free_unit(hold.stock_id)
    if not sold:
        return False
    EditionHold.objects.filter(pk=hold.pk, status=HoldStatus.EXPIRED).update(
        status=HoldStatus.CONFIRMED, confirmed_at=moment, ended_at=None
    )
    return True


def hold_renew(*, hold: EditionHold, minutes: int) -> EditionHold:
    """Take a unit again for an order whose hold expired before it was paid (the buyer came back)."""
    with transaction.atomic():
        moment = clock.now()
        if hold.status == HoldStatus.HELD and hold.expires_at > moment:
            return hold
        if hold.status == HoldStatus.HELD:
            _hold_expire_one(hold.pk, hold.stock_id)
        if not EditionHold.objects.filter(pk=hold.pk, status=HoldStatus.EXPIRED).exists():
            hold.refresh_from_db()
            return hold
        taken = _take_unit(hold.stock_id)
        if not taken:
            overdue = EditionHold.objects.filter(
                stock_id=hold.stock_id, status=HoldStatus.HELD, expires_at__lte=moment
            ).values_list("pk", flat=True)[:EXPIRE_BATCH]
            if sum(_hold_expire_one(hold_id, hold.stock_id) for hold_id in overdue):
                taken = _take_unit(hold.stock_id)
        if not taken:
            current = EditionStock.objects.select_related("edition").get(pk=hold.stock_id)
            raise sold_out_error(current) if current.is_sold_out else all_units_held_error(current)
        EditionHold.objects.filter(pk=hold.pk, status=HoldStatus.EXPIRED).update(
            status=HoldStatus.HELD, expires_at=moment + timedelta(minutes=minutes), ended_at=None
        )
        event_record(
            "order.hold_renewed",
            subject_type="order",
            subject_id=hold.order.number,
            dealer_id=hold.order.dealer_id,
            payload={
                "order": hold.order.number,
                "expires_at": (moment + timedelta(minutes=minutes)).astimezone(clock.SHANGHAI).isoformat(),
            },
        )
    hold.refresh_from_db()
    return hold


def hold_release(*, hold: EditionHold) -> bool:
    """Give the unit back when the order is cancelled: a live hold is released, a sold unit returned."""
    moment = clock.now()
    released = EditionHold.objects.filter(pk=hold.pk, status=HoldStatus.HELD).update(
        status=HoldStatus.RELEASED, ended_at=moment
    )
    if released:
        EditionStock.objects.filter(pk=hold.stock_id, units_held__gt=0).update(units_held=F("units_held") - 1)
        return True
    returned = EditionHold.objects.filter(pk=hold.pk, status=HoldStatus.CONFIRMED).update(
        status=HoldStatus.RELEASED, ended_at=moment
    )
    if returned:
        EditionStock.objects.filter(pk=hold.stock_id, units_sold__gt=0).update(units_sold=F("units_sold") - 1)
        return True
    return False
