"""Money for an order: exactly what is due, credited once, never beyond what the order owes."""

from __future__ import annotations

import pytest

from forecourt.core.errors import DomainError
from forecourt.core.money import Money
from forecourt.orders.models import Order, OrderPayment, OrderRefund
from forecourt.orders.services import (
    order_cancel,
    order_final_payment_confirm,
    order_pay_start,
    order_payment_credit,
)
from forecourt.payments.models import PaymentIntent, Refund
from forecourt.payments.selectors import payment_intents_for
from forecourt.payments.services import payment_intent_create

from .conftest import (
    DEPOSIT,
    INTENTION,
    RETURN_URL,
    STD_TOTAL,
    committed,
    fresh,
    intent_for,
    notify_paid,
    order_events,
    pay,
)


def test_paying_the_intention_money_moves_the_order_and_credits_it_once(order):
    intent = intent_for(order, "intention")
    assert (intent.amount_fen, intent.purpose, intent.reference) == (
        INTENTION,
        "order.intention",
        order.number,
    )

    for _ in range(3):
        notify_paid(intent)

    order = fresh(order)
    assert (order.status, order.paid_fen) == ("intention_paid", INTENTION)
    assert OrderPayment.objects.get(order=order).credited_fen == INTENTION
    assert order_events(order) == ["order.created", "order.intention_paid", "order.payment_credited"]


def test_the_deposit_due_is_the_deposit_less_the_intention_money(order):
    pay(order, "intention")
    intent = pay(order, "deposit")
    order = fresh(order)
    assert intent.amount_fen == DEPOSIT - INTENTION
    assert (order.status, order.paid_fen) == ("deposit_paid", DEPOSIT)


def test_paying_a_stage_that_is_not_due_is_refused_and_creates_no_intent(order):
    with pytest.raises(DomainError) as refused:
        order_pay_start(
            order=order, stage="deposit", provider="sandbox", return_url=RETURN_URL, actor=order.buyer
        )
    assert (refused.value.code, refused.value.status, refused.value.details) == (
        "wrong_stage",
        409,
        {"due": "intention"},
    )
    assert payment_intents_for(reference=order.number) == []


def test_only_the_buyer_may_start_a_payment(order, other_buyer):
    with pytest.raises(DomainError) as refused:
        order_pay_start(
            order=order, stage="intention", provider="sandbox", return_url=RETURN_URL, actor=other_buyer
        )
    assert refused.value.status == 404
    assert payment_intents_for(reference=order.number) == []


def test_offline_is_not_an_online_provider(order):
    with pytest.raises(DomainError) as refused:
        order_pay_start(
            order=order, stage="intention", provider="offline", return_url=RETURN_URL, actor=order.buyer
        )
    assert refused.value.details[0]["field"] == "provider"


def test_pressing_pay_twice_reuses_one_intent(order):
    first = intent_for(order, "intention")
    second = intent_for(order, "intention")
    assert first.pk == second.pk
    assert len(payment_intents_for(reference=order.number)) == 1


def test_paid_twice_through_two_gateways_credits_once_and_refunds_the_second(order):
    first = intent_for(order, "intention")
    # The buyer also paid the same stage through another gateway (an intent of its own).
    second = payment_intent_create(
        purpose="order.intention",
        reference=order.number,
        amount=Money(INTENTION),
        payer=order.buyer,
        provider="sandbox",
        description="second",
        idempotency_key=f"second-gateway:{order.number}",
    )
    notify_paid(first)
    notify_paid(second)

    order = fresh(order)
    assert (order.status, order.paid_fen, order.refunded_fen) == ("intention_paid", INTENTION, 0)
    excess = OrderPayment.objects.get(intent=second.public_id)
    assert (excess.credited_fen, excess.excess_fen, excess.refunded_fen) == (0, INTENTION, INTENTION)
    assert PaymentIntent.objects.get(pk=second.pk).refunded_fen == INTENTION
    assert PaymentIntent.objects.get(pk=first.pk).refunded_fen == 0
    assert OrderRefund.objects.get(payment=excess).applied_fen == 0


def test_a_payment_after_cancelling_is_refunded_in_full(order):
    intent = intent_for(order, "intention")
    with committed():
        order = order_cancel(order=order, actor=order.buyer)
    # The buyer's gateway had taken the money before the intent was closed.
    notify_paid(intent)

    order = fresh(order)
    assert (order.status, order.paid_fen, order.refunded_fen) == ("cancelled", 0, 0)
    payment = OrderPayment.objects.get(intent=intent.public_id)
    assert (payment.credited_fen, payment.excess_fen, payment.refunded_fen) == (0, INTENTION, INTENTION)
    assert PaymentIntent.objects.get(pk=intent.pk).refunded_fen == INTENTION


def test_crediting_the_same_intent_again_changes_nothing(order):
    intent = pay(order, "intention")
    before = (fresh(order).paid_fen, OrderPayment.objects.count(), order_events(order))
    order_payment_credit(
        intent=intent.public_id, purpose="order.intention", reference=order.number, amount_fen=INTENTION
    )
    assert (fresh(order).paid_fen, OrderPayment.objects.count(), order_events(order)) == before


def test_a_payment_for_something_else_is_ignored(order):
    assert (
        order_payment_credit(intent="pay_X", purpose="voucher.buy", reference=order.number, amount_fen=1)
        is None
    )
    assert (
        order_payment_credit(
            intent="pay_Y", purpose="order.deposit", reference="FONOSUCHORDER1", amount_fen=1
        )
        is None
    )
    assert OrderPayment.objects.count() == 0


def test_the_final_payment_online_makes_the_order_final_paid(allocated_order):
    intent = pay(allocated_order, "final")
    order = fresh(allocated_order)
    assert intent.amount_fen == STD_TOTAL - DEPOSIT
    assert (order.status, order.paid_fen) == ("final_paid", STD_TOTAL)


def test_final_payment_in_store_is_recorded_with_payments_and_credited(allocated_order, advisor):
    order = order_final_payment_confirm(
        order=allocated_order, actor=advisor, receipt_number="POS-20261123-0001"
    )

    assert (order.status, order.paid_fen) == ("final_paid", STD_TOTAL)
    intent = payment_intents_for(reference=order.number, purpose="order.final")[0]
    assert (intent.provider, intent.status, intent.amount_fen) == (
        "offline",
        "succeeded",
        STD_TOTAL - DEPOSIT,
    )
    assert OrderPayment.objects.filter(order=order).count() == 3


def test_final_payment_in_store_twice_is_refused(allocated_order, advisor):
    order_final_payment_confirm(order=allocated_order, actor=advisor, receipt_number="POS-1")
    with pytest.raises(DomainError) as refused:
        order_final_payment_confirm(order=fresh(allocated_order), actor=advisor, receipt_number="POS-2")
    assert refused.value.code == "nothing_due"
    assert len(payment_intents_for(reference=allocated_order.number, purpose="order.final")) == 1


def test_another_dealers_staff_cannot_confirm_a_final_payment(allocated_order, other_advisor):
    with pytest.raises(DomainError) as refused:
        order_final_payment_confirm(order=allocated_order, actor=other_advisor, receipt_number="POS-9")
    assert refused.value.status == 404
    assert payment_intents_for(reference=allocated_order.number, purpose="order.final") == []
    assert fresh(allocated_order).paid_fen == DEPOSIT


def test_nothing_is_due_while_waiting_for_a_car(locked_order):
    with pytest.raises(DomainError) as refused:
        order_pay_start(
            order=locked_order,
            stage="final",
            provider="sandbox",
            return_url=RETURN_URL,
            actor=locked_order.buyer,
        )
    assert refused.value.code == "nothing_due"
    assert Refund.objects.count() == 0
    assert Order.objects.get(pk=locked_order.pk).paid_fen == DEPOSIT
