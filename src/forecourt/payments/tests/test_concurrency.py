"""Real concurrency on PostgreSQL: duplicate notifications and refunds racing on separate connections."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forecourt.core.models import Event
from forecourt.core.money import Money
from forecourt.payments.models import LedgerEntry, PaymentIntent, PaymentNotification, Refund
from forecourt.payments.services import payment_intent_close, payment_intent_create, payment_refund

from .conftest import race, receive, sandbox_notification

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_race"),
]


def _delivered(headers: dict[str, str], body: bytes) -> str:
    outcome = receive(headers, body)
    return "duplicate" if outcome.duplicate else ("accepted" if outcome.accepted else outcome.reason)


def test_every_notification_replayed_ten_times_two_at_a_time_is_credited_once(create_intent):
    intents = [create_intent(reference=f"FO{index}", idempotency_key=f"race-{index}") for index in range(3)]

    for intent in intents:
        headers, body = sandbox_notification(intent)

        def deliver(_index: int, headers: dict[str, str] = headers, body: bytes = body) -> str:
            return _delivered(headers, body)

        totals: Counter[str] = Counter()
        for _round in range(5):
            totals += race(2, deliver)
        assert totals == Counter({"accepted": 1, "duplicate": 9})

    for intent in intents:
        intent.refresh_from_db()
        assert intent.status == "succeeded"
        assert LedgerEntry.objects.filter(intent=intent).count() == 2
        assert Event.objects.filter(name="payment.succeeded", subject_id=intent.public_id).count() == 1
        assert PaymentNotification.objects.filter(intent=intent, outcome="accepted").count() == 1
        assert PaymentNotification.objects.filter(intent=intent, outcome="duplicate").count() == 9


def test_ten_simultaneous_deliveries_of_one_notification_credit_once(intent):
    headers, body = sandbox_notification(intent)

    outcomes = race(10, lambda _index: _delivered(headers, body))

    assert outcomes == Counter({"accepted": 1, "duplicate": 9})
    assert LedgerEntry.objects.count() == 2
    assert Event.objects.filter(name="payment.succeeded").count() == 1


def test_different_notifications_of_one_payment_racing_credit_once(intent):
    # A gateway may send TRADE_SUCCESS and TRADE_FINISHED (two ids) for one trade at once.
    deliveries = [sandbox_notification(intent, notification_id=f"N{index}") for index in range(6)]

    outcomes = race(6, lambda index: _delivered(*deliveries[index]))

    assert outcomes == Counter({"accepted": 1, "duplicate": 5})
    assert LedgerEntry.objects.count() == 2
    assert Event.objects.filter(name="payment.succeeded").count() == 1


def test_a_close_racing_a_success_ends_paid_and_credited_once(intent):
    headers, body = sandbox_notification(intent)
    work = [lambda: _delivered(headers, body), lambda: payment_intent_close(intent=intent) and "closed"]

    outcomes = race(2, lambda index: work[index]())

    assert outcomes["accepted"] == 1
    intent.refresh_from_db()
    assert intent.status == "succeeded"
    assert Event.objects.filter(name="payment.succeeded").count() == 1
    assert LedgerEntry.objects.count() == 2


def test_simultaneous_refunds_never_exceed_what_was_paid(paid):
    outcomes = race(
        12,
        lambda index: payment_refund(
            intent=paid, amount=Money(100_000), reason="并发退款", idempotency_key=f"refund-{index}"
        ),
    )

    assert outcomes == Counter({"ok": 5, "refund_exceeds_paid": 7})
    paid.refresh_from_db()
    assert (paid.refunded_fen, paid.refunding_fen) == (500_000, 0)
    assert Refund.objects.filter(status="succeeded").count() == 5
    assert Event.objects.filter(name="payment.refunded").count() == 5
    assert LedgerEntry.objects.filter(kind="refund").count() == 10


def test_simultaneous_refunds_with_one_key_refund_once(paid):
    outcomes = race(
        8,
        lambda _index: payment_refund(
            intent=paid, amount=Money(200_000), reason="重复提交", idempotency_key="refund-same"
        ),
    )

    assert outcomes == Counter({"ok": 8})
    paid.refresh_from_db()
    assert paid.refunded_fen == 200_000
    assert Refund.objects.count() == 1
    assert Event.objects.filter(name="payment.refunded").count() == 1


def test_simultaneous_creates_with_one_key_make_one_intent(payer):
    outcomes = race(
        8,
        lambda _index: payment_intent_create(
            purpose="order.deposit",
            reference="FO1",
            amount=Money(500_000),
            payer=payer,
            provider="sandbox",
            description="定金",
            idempotency_key="order:FO1:deposit",
        ),
    )

    assert outcomes == Counter({"ok": 8})
    assert PaymentIntent.objects.count() == 1
    assert Event.objects.filter(name="payment.created").count() == 1


def test_one_receipt_recorded_twice_at_once_under_two_keys_is_one_payment(record_offline):
    outcomes = race(2, lambda index: record_offline(idempotency_key=f"store-{index}"))

    assert outcomes == Counter({"ok": 1, "receipt_already_recorded": 1})
    assert PaymentIntent.objects.count() == 1
    assert LedgerEntry.objects.count() == 2
    assert Event.objects.filter(name="payment.succeeded").count() == 1


def _lock_then_write(queries: list[dict[str, str]], table: str) -> tuple[int, int]:
    sqls = [query["sql"] for query in queries]
    lock = next(i for i, sql in enumerate(sqls) if f'FROM "{table}"' in sql and "FOR UPDATE" in sql)
    write = next(i for i, sql in enumerate(sqls) if sql.startswith(f'UPDATE "{table}"'))
    return lock, write


def test_a_notification_locks_the_intent_before_it_checks_or_writes(intent):
    with CaptureQueriesContext(connection) as captured:
        receive(*sandbox_notification(intent))

    lock, write = _lock_then_write(captured.captured_queries, "payments_paymentintent")
    assert lock < write
    # The duplicate check reads the notification log only after the lock.
    sqls = [query["sql"] for query in captured.captured_queries]
    seen_check = next(i for i, sql in enumerate(sqls) if 'FROM "payments_paymentnotification"' in sql)
    assert lock < seen_check


def test_a_refund_locks_the_intent_before_it_checks_or_writes(paid):
    with CaptureQueriesContext(connection) as captured:
        payment_refund(intent=paid, amount=Money(100), reason="退款", idempotency_key="lock-check")

    lock, write = _lock_then_write(captured.captured_queries, "payments_paymentintent")
    assert lock < write
