"""Late notifications: the sweeper asks the gateway, and its answer is applied once, like a notification."""

from __future__ import annotations

from datetime import timedelta

from forecourt.core import clock
from forecourt.core.models import Event
from forecourt.payments.models import LedgerEntry, PaymentIntent, PaymentNotification
from forecourt.payments.providers import VerifiedNotification
from forecourt.payments.services import payment_intent_query, payments_sweep

from .conftest import money_state


def _answer(intent, **overrides) -> VerifiedNotification:
    fields = {
        "notification_id": "",
        "out_trade_no": intent.out_trade_no,
        "provider_trade_no": "2026112222001",
        "amount_fen": intent.amount_fen,
        "status": "succeeded",
        "raw": {"trade_status": "TRADE_SUCCESS", "buyer_logon_id": "138****8000"},
    }
    fields.update(overrides)
    return VerifiedNotification(**fields)


def test_the_sweeper_queries_late_gateway_intents_and_credits_once(create_intent, fake_gateway):
    intent = create_intent(provider="alipay")
    fake_gateway.query_answer = _answer(intent)

    assert payments_sweep()["queried"] == 0  # a notification normally arrives within seconds
    with clock.frozen_at(clock.now() + timedelta(minutes=3)):
        first = payments_sweep()
        second = payments_sweep()

    assert (first["queried"], second["queried"]) == (1, 0)
    intent.refresh_from_db()
    assert (intent.status, intent.provider_trade_no) == ("succeeded", "2026112222001")
    logged = PaymentNotification.objects.get()
    assert (logged.source, logged.outcome, logged.notification_id) == (
        "query",
        "accepted",
        "query:2026112222001:succeeded",
    )
    assert "138****8000" not in logged.body and "[redacted]" in logged.body
    assert Event.objects.filter(name="payment.succeeded").count() == 1
    assert LedgerEntry.objects.count() == 2


def test_a_query_answer_after_the_notification_is_a_duplicate(create_intent, fake_gateway):
    intent = create_intent(provider="alipay")
    fake_gateway.query_answer = _answer(intent)
    payment_intent_query(intent=intent)
    PaymentIntent.objects.filter(pk=intent.pk).update(status="closed")  # pretend an operator closed it
    payment_intent_query(intent=intent)

    assert list(PaymentNotification.objects.order_by("pk").values_list("outcome", flat=True)) == [
        "accepted",
        "duplicate",
    ]
    assert Event.objects.filter(name="payment.succeeded").count() == 1


def test_a_query_answer_for_another_trade_or_amount_changes_nothing(create_intent, fake_gateway):
    intent = create_intent(provider="alipay")
    before = money_state()

    fake_gateway.query_answer = _answer(intent, out_trade_no="FCSOMEONEELSE")
    payment_intent_query(intent=intent)
    fake_gateway.query_answer = _answer(intent, amount_fen=1)
    payment_intent_query(intent=intent)

    assert money_state() == before
    assert list(PaymentNotification.objects.order_by("pk").values_list("reason", flat=True)) == [
        "wrong_trade",
        "amount_mismatch",
    ]


def test_no_answer_or_a_broken_gateway_changes_nothing(create_intent, fake_gateway, monkeypatch):
    intent = create_intent(provider="alipay")
    before = money_state()

    payment_intent_query(intent=intent)

    def broken(self, intent):
        raise TimeoutError("gateway slow")

    monkeypatch.setattr(fake_gateway, "query", broken)
    payment_intent_query(intent=intent)

    assert money_state() == before
    assert not PaymentNotification.objects.exists()


def test_sandbox_intents_are_never_queried(intent, fake_gateway):
    with clock.frozen_at(clock.now() + timedelta(minutes=3)):
        assert payments_sweep()["queried"] == 0
