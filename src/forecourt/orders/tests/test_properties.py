"""Random walks through an order's life (Hypothesis): whatever buyers, gateways, staff and the clock do,
the money never goes wrong and the status moves only along the transition table."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.money import Money
from forecourt.orders.models import ALLOWED_TRANSITIONS, OrderPayment, OrderStatus, OrderStatusChange
from forecourt.orders.selectors import order_due
from forecourt.orders.services import (
    order_allocate_vehicle,
    order_cancel,
    order_delivery_book,
    order_delivery_confirm,
    order_final_payment_confirm,
    order_lock,
    order_place,
    orders_sweep,
    refund_due_on_cancel,
    vehicle_add,
)
from forecourt.payments.models import PaymentIntent
from forecourt.payments.services import payment_intent_create

from .conftest import STD_CHOICES, committed, fresh, intent_for, notify_paid

ACTIONS = [
    "pay_due",
    "pay_due_through_a_second_gateway",
    "pay_a_stage_already_paid",
    "lock",
    "allocate",
    "final_in_store",
    "book",
    "deliver",
    "cancel",
    "next_day",
    "sweep",
]
_vins = itertools.count(1)


def _second_intent(order, stage: str, amount: int) -> PaymentIntent:
    return payment_intent_create(
        purpose=f"order.{stage}",
        reference=order.number,
        amount=Money(amount),
        payer=order.buyer,
        provider="sandbox",
        description="another gateway",
        idempotency_key=f"elsewhere:{order.number}:{stage}:{next(_vins)}",
    )


def _act(action: str, order, *, advisor, catalogue, dealer) -> None:
    buyer = order.buyer
    due = order_due(order)
    if action == "pay_due" and due:
        notify_paid(intent_for(order, due.stage))
    elif action == "pay_due_through_a_second_gateway" and due:
        notify_paid(intent_for(order, due.stage))
        notify_paid(_second_intent(order, due.stage, due.amount.amount))
    elif action == "pay_a_stage_already_paid":
        notify_paid(_second_intent(order, "intention", order.intention_fen))
    elif action == "lock":
        order_lock(order=order, actor=buyer)
    elif action == "allocate":
        car = vehicle_add(
            vin=f"LRWYGCEK8PD{next(_vins):06d}", trim=catalogue.std, option_codes=STD_CHOICES, dealer=dealer
        )
        order_allocate_vehicle(order=order, vehicle=car, actor=advisor)
    elif action == "final_in_store":
        order_final_payment_confirm(order=order, actor=advisor, receipt_number=f"POS-{next(_vins)}")
    elif action == "book":
        order_delivery_book(order=order, delivery_at=clock.now() + timedelta(days=1), actor=advisor)
    elif action == "deliver":
        order_delivery_confirm(order=order, actor=advisor)
    elif action == "cancel":
        order_cancel(order=order, actor=buyer)
    elif action == "next_day":
        clock.advance(timedelta(days=1))
    elif action == "sweep":
        orders_sweep()


def _check(order) -> None:
    assert 0 <= order.refunded_fen <= order.paid_fen <= order.total_fen
    payments = list(OrderPayment.objects.filter(order=order))
    assert order.paid_fen == sum(payment.credited_fen for payment in payments)
    # What the payments side holds for this order is exactly what the order counts as paid and kept.
    intents = PaymentIntent.objects.filter(reference=order.number, status="succeeded")
    held = sum(intent.amount_fen - intent.refunded_fen for intent in intents)
    assert held == order.paid_fen - order.refunded_fen
    for payment in payments:
        assert payment.refunded_fen == PaymentIntent.objects.get(public_id=payment.intent).refunded_fen
    path = list(
        OrderStatusChange.objects.filter(order=order)
        .order_by("at", "id")
        .values_list("from_status", "to_status")
    )
    assert path[0] == ("", OrderStatus.CREATED)
    for (_before, previous), (source, target) in itertools.pairwise(path):
        assert source == previous
        assert target in ALLOWED_TRANSITIONS[source]
    assert order.status == path[-1][1]


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    start=st.sampled_from([[], ["pay_due", "pay_due"], ["pay_due", "pay_due", "lock", "allocate"]]),
    walk=st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=10),
)
def test_random_walks_keep_the_money_right_and_follow_the_table(
    start, walk, configuration, buyer, dealer, advisor, catalogue
):
    with clock.frozen_at(clock.now()):
        order = order_place(buyer=buyer, configuration=configuration, dealer=dealer)
        for action in [*start, *walk]:
            before = fresh(order)
            expected_refund = refund_due_on_cancel(before)
            try:
                with committed():
                    _act(action, before, advisor=advisor, catalogue=catalogue, dealer=dealer)
            except DomainError:
                # A refused step rolls back whole: nothing about the order changed.
                assert fresh(order).status == before.status
            after = fresh(order)
            _check(after)
            if (
                action == "cancel"
                and after.status == OrderStatus.CANCELLED
                and before.status != OrderStatus.CANCELLED
            ):
                assert after.refunded_fen - before.refunded_fen == expected_refund
                kept = after.paid_fen - after.refunded_fen
                assert kept == (min(before.deposit_fen, before.paid_fen) if before.is_locked else 0)
