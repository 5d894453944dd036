"""`forecourt reconcile`: orders against payments (and payments' own checks); non-zero exit on any gap."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from forecourt.orders.models import Order, OrderPayment
from forecourt.orders.services import order_cancel

from .conftest import committed, fresh, pay


def _reconcile() -> str:
    out = StringIO()
    call_command("reconcile", stdout=out)
    return out.getvalue()


def test_orders_that_went_through_every_kind_of_money_movement_reconcile(
    final_paid_order, deposit_paid, place
):
    cancelled = place()
    pay(cancelled, "intention")
    with committed():
        order_cancel(order=fresh(cancelled), actor=cancelled.buyer)
    assert _reconcile().strip() == "reconciled: no discrepancies"


def test_an_order_that_counts_money_it_was_not_paid_is_reported(deposit_paid):
    Order.objects.filter(pk=deposit_paid.pk).update(paid_fen=deposit_paid.paid_fen + 100)
    out = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("reconcile", stdout=out)
    assert str(failed.value) == "1 discrepancies found"
    assert out.getvalue().splitlines() == [
        f"orders\torder_paid_mismatch\t{deposit_paid.number}\tpaid_fen=2000100 credited=2000000"
    ]


def test_a_payment_no_order_credited_is_reported(deposit_paid):
    payment = OrderPayment.objects.filter(order=deposit_paid).latest("at", "id")
    Order.objects.filter(pk=deposit_paid.pk).update(paid_fen=deposit_paid.paid_fen - payment.credited_fen)
    payment.delete()
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("reconcile", stdout=out)
    assert out.getvalue().splitlines() == [
        f"orders\tpayment_not_credited\t{deposit_paid.number}\t"
        f"intent {payment.intent} paid {payment.amount_fen}"
    ]
