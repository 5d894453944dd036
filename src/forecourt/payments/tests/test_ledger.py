"""The ledger balances under any sequence of payments, replays, closes and refunds (Hypothesis)."""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.core.money import Money
from forecourt.payments.models import LedgerEntry, PaymentIntent, Refund
from forecourt.payments.selectors import ledger_balances, payments_reconcile
from forecourt.payments.services import (
    payment_intent_close,
    payment_intent_create,
    payment_offline_record,
    payment_refund,
)
from forecourt.payments.services.ledger import ledger_movement_record

from .conftest import receive, sandbox_notification

AMOUNTS = [1, 99_00, 5_000_00, 20_000_00]
PURPOSES = ["order.intention", "order.deposit", "order.final"]

operation = st.one_of(
    st.tuples(st.just("pay"), st.integers(0, 3)),
    st.tuples(st.just("replay"), st.integers(0, 3)),
    st.tuples(st.just("fail"), st.integers(0, 3)),
    st.tuples(st.just("close"), st.integers(0, 3)),
    st.tuples(st.just("refund"), st.integers(0, 3), st.integers(1, 2_100_000)),
    st.tuples(st.just("refund_again"), st.integers(0, 3)),
)


def _check_books(paid_by_intent: dict[int, int]) -> None:
    # Every movement sums to zero, so the whole ledger does.
    for group, total in LedgerEntry.objects.values_list("group").annotate(total=Sum("amount_fen")):
        assert total == 0, group
    balances = ledger_balances()
    assert sum(balances.values()) == 0
    succeeded = PaymentIntent.objects.filter(status="succeeded")
    received = sum(intent.amount_fen for intent in succeeded)
    refunded = sum(intent.refunded_fen for intent in PaymentIntent.objects.all())
    held = sum(amount for account, amount in balances.items() if account.startswith("gateway:"))
    assert held == received - refunded
    for intent in PaymentIntent.objects.all():
        refunds = Refund.objects.filter(intent=intent, status="succeeded").aggregate(total=Sum("amount_fen"))
        assert intent.refunded_fen == (refunds["total"] or 0) <= intent.amount_fen
        assert intent.refunding_fen == 0
        # Credited once: one success event and one payment movement per paid intent.
        events = Event.objects.filter(name="payment.succeeded", subject_id=intent.public_id).count()
        assert events == (1 if intent.status == "succeeded" else 0)
        assert paid_by_intent[intent.pk] == (intent.amount_fen if intent.status == "succeeded" else 0)
    assert payments_reconcile() == []


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, min_size=1, max_size=14), offline_amount=st.sampled_from(AMOUNTS))
def test_the_ledger_balances_under_any_sequence_of_payments_and_refunds(
    payer, advisor, operations, offline_amount
):
    with transaction.atomic():
        intents = [
            payment_intent_create(
                purpose=PURPOSES[index % 3],
                reference=f"FO{index}",
                amount=Money(AMOUNTS[index]),
                payer=payer,
                provider="sandbox",
                description="定金",
                idempotency_key=f"ledger-{index}",
            )
            for index in range(3)
        ]
        intents.append(
            payment_offline_record(
                purpose="order.final",
                reference="FO3",
                amount=Money(offline_amount),
                payer=payer,
                actor=advisor,
                receipt_number="POS-1",
                idempotency_key="ledger-offline",
            )
        )
        paid_by_intent: dict[int, int] = defaultdict(int)
        paid_by_intent[intents[3].pk] = offline_amount
        refund_keys: list[tuple[int, str, int]] = []
        for number, step in enumerate(operations):
            kind, index = step[0], step[1]
            intent = PaymentIntent.objects.get(pk=intents[index].pk)
            if kind in ("pay", "replay"):
                was_paid = intent.status == "succeeded"
                outcome = receive(*sandbox_notification(intent)) if intent.provider == "sandbox" else None
                if outcome is not None and outcome.accepted and not outcome.duplicate:
                    assert not was_paid
                    paid_by_intent[intent.pk] += intent.amount_fen
            elif kind == "fail":
                if intent.provider == "sandbox":
                    receive(*sandbox_notification(intent, status="failed"))
            elif kind == "close":
                try:
                    payment_intent_close(intent=intent)
                except DomainError as error:
                    assert error.code == "payment_already_succeeded"
            elif kind == "refund":
                fen = step[2] % (intent.amount_fen + 2) or 1
                key = f"refund-{number}"
                allowed = intent.status == "succeeded" and fen <= intent.refundable_fen
                try:
                    payment_refund(intent=intent, amount=Money(fen), reason="退款", idempotency_key=key)
                    assert allowed
                    refund_keys.append((intent.pk, key, fen))
                except DomainError as error:
                    assert not allowed
                    assert error.code in {"refund_exceeds_paid", "payment_not_refundable"}
            elif kind == "refund_again" and refund_keys:
                intent_pk, key, fen = refund_keys[index % len(refund_keys)]
                payment_refund(
                    intent=PaymentIntent.objects.get(pk=intent_pk),
                    amount=Money(fen),
                    reason="退款",
                    idempotency_key=key,
                )
        _check_books(paid_by_intent)
        transaction.set_rollback(True)


@pytest.mark.parametrize(
    "legs",
    [[("gateway:sandbox", 100)], [("gateway:sandbox", 100), ("customer_funds:x", -99)], [("a", 0), ("b", 0)]],
)
def test_an_unbalanced_movement_is_never_written(intent, legs):
    with pytest.raises(ValueError):
        ledger_movement_record(group="payment:x", kind="payment", intent=intent, legs=legs)

    assert LedgerEntry.objects.count() == 0
