"""Cancelling with the refund rules per stage: everything before the lock, all but the deposit after it,
nothing once delivered. Exact amounts, and the refunds go through payments."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.orders.models import OrderStatus, Vehicle
from forecourt.orders.services import (
    order_cancel,
    order_delivery_book,
    order_delivery_confirm,
    refund_due_on_cancel,
)
from forecourt.payments.models import PaymentIntent, Refund
from forecourt.payments.selectors import payment_intents_for

from .conftest import DEPOSIT, INTENTION, STD_TOTAL, committed, fresh, intent_for, pay

FINAL = STD_TOTAL - DEPOSIT


def _cancel(order, actor=None, **kwargs):
    with committed():
        return order_cancel(order=order, actor=actor or order.buyer, **kwargs)


def _refunded_by_intent(order) -> dict[str, int]:
    return {
        intent.purpose: intent.refunded_fen
        for intent in PaymentIntent.objects.filter(reference=order.number, status="succeeded")
    }


def test_cancelling_before_paying_refunds_nothing_and_closes_open_payments(order):
    intent = intent_for(order, "intention")
    order = _cancel(order)
    assert (order.status, order.cancel_reason, order.cancelled_at) == ("cancelled", "buyer", clock.now())
    assert Refund.objects.count() == 0
    assert PaymentIntent.objects.get(pk=intent.pk).status == "closed"


def test_intention_money_is_refunded_in_full(order):
    pay(order, "intention")
    assert refund_due_on_cancel(fresh(order)) == INTENTION
    order = _cancel(fresh(order))
    assert (order.status, fresh(order).refunded_fen) == ("cancelled", INTENTION)
    assert _refunded_by_intent(order) == {"order.intention": INTENTION}


def test_before_the_lock_the_whole_deposit_is_refunded(deposit_paid):
    _cancel(deposit_paid)
    order = fresh(deposit_paid)
    assert (order.paid_fen, order.refunded_fen) == (DEPOSIT, DEPOSIT)
    assert _refunded_by_intent(order) == {"order.intention": INTENTION, "order.deposit": DEPOSIT - INTENTION}


def test_after_the_lock_the_deposit_is_kept(locked_order):
    assert refund_due_on_cancel(locked_order) == 0
    _cancel(locked_order)
    order = fresh(locked_order)
    assert (order.status, order.paid_fen, order.refunded_fen) == ("cancelled", DEPOSIT, 0)
    assert Refund.objects.count() == 0


def test_the_deposit_is_kept_from_the_lock_date_even_before_the_sweeper(deposit_paid):
    clock.advance(timedelta(days=8))
    assert refund_due_on_cancel(fresh(deposit_paid)) == 0
    _cancel(fresh(deposit_paid))
    assert (fresh(deposit_paid).refunded_fen, Refund.objects.count()) == (0, 0)


def test_with_a_car_allocated_the_deposit_is_kept_and_the_car_returns_to_stock(allocated_order, car):
    _cancel(allocated_order)
    order = fresh(allocated_order)
    assert (order.status, order.refunded_fen, order.vehicle) == ("cancelled", 0, None)
    assert Vehicle.objects.get(pk=car.pk).status == "available"


def test_after_the_final_payment_everything_but_the_deposit_is_refunded(final_paid_order):
    assert refund_due_on_cancel(final_paid_order) == FINAL
    _cancel(final_paid_order)
    order = fresh(final_paid_order)
    assert (order.paid_fen, order.refunded_fen, order.paid_fen - order.refunded_fen) == (
        STD_TOTAL,
        FINAL,
        DEPOSIT,
    )
    assert _refunded_by_intent(order) == {"order.intention": 0, "order.deposit": 0, "order.final": FINAL}


def test_ready_for_delivery_refunds_all_but_the_deposit(final_paid_order, advisor):
    order_delivery_book(order=final_paid_order, delivery_at=clock.now() + timedelta(days=2), actor=advisor)
    _cancel(fresh(final_paid_order), actor=advisor, reason="dealer")
    order = fresh(final_paid_order)
    assert (order.status, order.cancel_reason, order.refunded_fen) == ("cancelled", "dealer", FINAL)


def test_a_delivered_order_cannot_be_cancelled(final_paid_order, advisor):
    order_delivery_book(order=final_paid_order, delivery_at=clock.now() + timedelta(days=2), actor=advisor)
    order_delivery_confirm(order=fresh(final_paid_order), actor=advisor)
    with pytest.raises(DomainError) as refused:
        _cancel(fresh(final_paid_order))
    assert (refused.value.code, refused.value.status) == ("not_cancellable", 409)
    assert fresh(final_paid_order).status == OrderStatus.DELIVERED
    assert Refund.objects.count() == 0


def test_cancelling_twice_refunds_once(deposit_paid):
    _cancel(deposit_paid)
    with pytest.raises(DomainError) as refused:
        _cancel(fresh(deposit_paid))
    assert refused.value.code == "not_cancellable"
    assert Refund.objects.count() == 2
    assert fresh(deposit_paid).refunded_fen == DEPOSIT


def test_nobody_else_may_cancel(deposit_paid, other_buyer, other_advisor):
    with pytest.raises(DomainError):
        _cancel(deposit_paid, actor=other_buyer)
    with pytest.raises(DomainError):
        _cancel(deposit_paid, actor=other_advisor, reason="dealer")
    with pytest.raises(DomainError):
        _cancel(deposit_paid, actor=deposit_paid.buyer, reason="sold_out")
    assert fresh(deposit_paid).status == OrderStatus.DEPOSIT_PAID
    assert Refund.objects.count() == 0
    assert [intent.status for intent in payment_intents_for(reference=deposit_paid.number)] == [
        "succeeded"
    ] * 2
