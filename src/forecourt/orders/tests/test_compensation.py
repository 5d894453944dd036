"""Late delivery: each whole day past the promised date accrues compensation once, as an event."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.management import call_command

from forecourt.core import clock
from forecourt.core.models import Event
from forecourt.orders.models import OrderLateDay
from forecourt.orders.services import (
    order_delivery_book,
    order_delivery_confirm,
    order_late_days_accrue,
    orders_late_days_sweep,
)

from .conftest import fresh


def _late_events() -> list[tuple[str, int]]:
    return sorted(
        (event.payload["day"], event.payload["points"])
        for event in Event.objects.filter(name="order.delivery_late")
    )


def test_nothing_accrues_before_the_promised_date_has_fully_passed(final_paid_order):
    promised = final_paid_order.promised_delivery_date
    assert promised == date(2026, 12, 7)
    clock.advance(timedelta(days=14, hours=13))  # 7 December 23:00: the promised day itself
    assert order_late_days_accrue(order=fresh(final_paid_order)) == 0
    clock.advance(timedelta(days=1))  # 8 December 23:00: the 8th is not over yet
    assert order_late_days_accrue(order=fresh(final_paid_order)) == 0
    assert _late_events() == []


def test_each_whole_late_day_accrues_once_whoever_reads_first(final_paid_order):
    clock.advance(timedelta(days=17))  # 10 December 10:00: the 8th and 9th are whole late days
    order = fresh(final_paid_order)
    assert order_late_days_accrue(order=order) == 2
    assert order_late_days_accrue(order=order) == 0
    assert orders_late_days_sweep() == 0
    assert _late_events() == [("2026-12-08", 100), ("2026-12-09", 100)]
    event = Event.objects.filter(name="order.delivery_late").earliest("occurred_at")
    assert (event.payload["order"], event.payload["buyer"], event.dealer_id) == (
        order.number,
        order.buyer.public_id,
        order.dealer_id,
    )

    clock.advance(timedelta(days=1))
    call_command("orders_sweep", verbosity=0)
    assert _late_events()[-1] == ("2026-12-10", 100)
    assert OrderLateDay.objects.filter(order=order).count() == 3


def test_a_day_recorded_by_someone_else_meanwhile_is_not_recorded_again(final_paid_order):
    clock.advance(timedelta(days=16))  # 9 December: the 8th is late
    order = fresh(final_paid_order)
    # A concurrent reader won the race for the 8th between our read of known days and our insert.
    OrderLateDay.objects.create(order=order, day=date(2026, 12, 8), points=100, at=clock.now())
    assert order_late_days_accrue(order=order) == 0
    assert OrderLateDay.objects.filter(order=order).count() == 1
    assert _late_events() == []


def test_delivery_stops_the_accrual_and_settles_the_days_owed(final_paid_order, advisor, settings):
    settings.ORDERS_LATE_POINTS_PER_DAY = 50
    clock.advance(timedelta(days=16))  # 9 December 10:00
    order_delivery_book(
        order=fresh(final_paid_order), delivery_at=clock.now() + timedelta(hours=1), actor=advisor
    )
    clock.advance(timedelta(days=1, hours=2))  # delivered 10 December: the 8th and 9th were late
    order_delivery_confirm(order=fresh(final_paid_order), actor=advisor)
    assert _late_events() == [("2026-12-08", 50), ("2026-12-09", 50)]
    clock.advance(timedelta(days=5))
    assert orders_late_days_sweep() == 0
    assert order_late_days_accrue(order=fresh(final_paid_order)) == 0
    assert len(_late_events()) == 2


def test_an_order_without_a_car_accrues_nothing(locked_order):
    clock.advance(timedelta(days=60))
    assert order_late_days_accrue(order=fresh(locked_order)) == 0
    assert orders_late_days_sweep() == 0
