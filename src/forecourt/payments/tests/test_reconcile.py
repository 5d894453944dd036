"""Reconciliation: notifications, intents, refunds and ledger agree; each kind of disagreement is named."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from forecourt.core.money import Money
from forecourt.payments.models import LedgerEntry, PaymentIntent, Refund
from forecourt.payments.selectors import Discrepancy, payments_reconcile
from forecourt.payments.services import payment_refund


@pytest.fixture
def books(paid, record_offline):
    """A paid sandbox deposit with a partial refund, and a store payment: books that agree."""
    payment_refund(intent=paid, amount=Money(100_000), reason="部分退款", idempotency_key="r1")
    record_offline(reference="FO7K3M9Q2X4T8V", amount=Money(25_000_000), receipt_number="POS-1")
    paid.refresh_from_db()
    return paid


def _kinds() -> list[tuple[str, str]]:
    return [(item.kind, item.subject) for item in payments_reconcile()]


def test_books_that_agree_have_no_discrepancy(books):
    assert payments_reconcile() == []
    call_command("payments_reconcile", verbosity=0)


def test_a_payment_marked_paid_without_the_gateways_word_is_found(books, create_intent):
    forged = create_intent(idempotency_key="forged")
    PaymentIntent.objects.filter(pk=forged.pk).update(status="succeeded", paid_at=forged.created_at)

    assert sorted(_kinds()) == [
        ("succeeded_without_ledger", forged.public_id),
        ("succeeded_without_notification", forged.public_id),
    ]
    with pytest.raises(CommandError):
        call_command("payments_reconcile", verbosity=0)


def test_a_movement_that_does_not_sum_to_zero_is_found(books):
    LedgerEntry.objects.filter(
        group=f"payment:{books.out_trade_no}", account__startswith="customer_funds"
    ).delete()

    assert _kinds() == [("ledger_unbalanced", f"payment:{books.out_trade_no}")]


def test_a_refunded_amount_the_refunds_do_not_explain_is_found(books):
    PaymentIntent.objects.filter(pk=books.pk).update(refunded_fen=100_001)

    assert _kinds() == [("refunded_mismatch", books.public_id)]


def test_an_accepted_success_notification_not_credited_is_found(books):
    PaymentIntent.objects.filter(pk=books.pk).update(status="created", paid_at=None, refunded_fen=0)
    Refund.objects.filter(intent=books).update(status="failed")
    LedgerEntry.objects.filter(kind="refund").delete()

    assert sorted(_kinds()) == [
        ("ledger_without_payment", books.public_id),
        ("notification_not_credited", books.public_id),
    ]


def test_a_refund_without_its_movement_is_found(books):
    refund = books.refunds.get()
    LedgerEntry.objects.filter(refund=refund).delete()

    assert payments_reconcile() == [
        Discrepancy("refund_without_ledger", refund.public_id, "succeeded refund, no ledger movement")
    ]
