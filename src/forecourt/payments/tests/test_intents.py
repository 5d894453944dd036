"""Creating, starting and closing payment intents; recording store payments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.models import AuditEntry, Event
from forecourt.core.money import Money
from forecourt.payments.models import LedgerEntry, PaymentIntent
from forecourt.payments.selectors import payment_intent_get, payment_intents_for
from forecourt.payments.services import (
    PaymentStart,
    payment_intent_close,
    payment_start,
)

from .conftest import DEPOSIT


def test_create_stores_the_intent_and_records_payment_created(create_intent, payer):
    intent = create_intent(idempotency_key="order:FO1:deposit")

    assert intent.public_id.startswith("pay_")
    assert len(intent.out_trade_no) == 24 and intent.out_trade_no.isalnum()
    assert (intent.purpose, intent.reference, intent.amount_fen, intent.currency) == (
        "order.deposit",
        "FO7K3M9Q2X4T8V",
        500_000,
        "CNY",
    )
    assert (intent.provider, intent.channel, intent.status, intent.payer) == (
        "sandbox",
        "web",
        "created",
        payer,
    )
    assert intent.expires_at - intent.created_at == timedelta(minutes=30)
    assert intent.refunded_fen == 0 and intent.paid_at is None
    event = Event.objects.get(name="payment.created")
    assert (event.subject_type, event.subject_id) == ("payment_intent", intent.public_id)


def test_the_same_idempotency_key_returns_the_same_intent(create_intent):
    first = create_intent(idempotency_key="order:FO1:deposit")
    again = create_intent(idempotency_key="order:FO1:deposit")

    assert again.pk == first.pk
    assert PaymentIntent.objects.count() == 1
    assert Event.objects.filter(name="payment.created").count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"amount": Money(4_000_00)},
        {"reference": "FOOTHER"},
        {"purpose": "order.final"},
        {"provider": "offline"},
    ],
)
def test_the_same_key_with_other_details_is_refused(create_intent, change):
    create_intent(idempotency_key="order:FO1:deposit")

    with pytest.raises(DomainError) as raised:
        create_intent(idempotency_key="order:FO1:deposit", **change)

    assert (raised.value.code, raised.value.status) == ("idempotency_key_reused", 422)
    assert PaymentIntent.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": Money(0)}, "amount"),
        ({"amount": Money(-100)}, "amount"),
        ({"amount": Money(100, "USD")}, "amount"),
        ({"amount": 100}, "amount"),
        ({"provider": "paypal"}, "provider"),
        ({"channel": "jsapi"}, "channel"),
        ({"purpose": "Order Deposit"}, "purpose"),
        ({"purpose": ""}, "purpose"),
        ({"reference": ""}, "reference"),
        ({"reference": "x" * 65}, "reference"),
        ({"description": ""}, "description"),
        ({"description": "车" * 128}, "description"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"idempotency_key": "k" * 201}, "idempotency_key"),
    ],
)
def test_invalid_input_is_refused_naming_the_field(create_intent, change, field):
    with pytest.raises(DomainError) as raised:
        create_intent(**change)

    assert (raised.value.code, raised.value.status) == ("invalid", 422)
    assert raised.value.details[0]["field"] == field
    assert PaymentIntent.objects.count() == 0
    assert not Event.objects.exists()


def test_an_unconfigured_provider_is_unavailable(create_intent):
    with override_settings(PAYMENTS_SANDBOX_ENABLED=False), pytest.raises(DomainError) as raised:
        create_intent()

    assert (raised.value.code, raised.value.status) == ("payment_provider_unavailable", 503)
    assert PaymentIntent.objects.count() == 0


def test_start_sends_a_sandbox_payer_to_the_local_payment_page(intent):
    start = payment_start(intent=intent, return_url="/orders/FO7K3M9Q2X4T8V/")

    assert start == PaymentStart(kind="redirect", url=f"/payments/sandbox/{intent.out_trade_no}/")
    intent.refresh_from_db()
    assert intent.return_url == "/orders/FO7K3M9Q2X4T8V/"


@pytest.mark.parametrize(
    "return_url", ["//evil.example/", "javascript:alert(1)", "orders/1", "/\\evil", "", "https://", "/a b"]
)
def test_start_refuses_a_return_url_a_browser_could_misread(intent, return_url):
    with pytest.raises(DomainError) as raised:
        payment_start(intent=intent, return_url=return_url)

    assert raised.value.details[0]["field"] == "return_url"
    intent.refresh_from_db()
    assert intent.return_url == ""


def test_start_of_an_expired_or_closed_intent_is_refused(intent, create_intent):
    with clock.frozen_at(intent.expires_at + timedelta(seconds=1)), pytest.raises(DomainError) as expired:
        payment_start(intent=intent, return_url="/orders/")
    closed = payment_intent_close(intent=create_intent())
    with pytest.raises(DomainError) as refused:
        payment_start(intent=closed, return_url="/orders/")

    assert (expired.value.code, expired.value.status) == ("payment_not_payable", 409)
    assert (refused.value.code, refused.value.status) == ("payment_not_payable", 409)


def test_close_closes_an_unpaid_intent_once(intent):
    closed = payment_intent_close(intent=intent)
    again = payment_intent_close(intent=intent)

    assert (closed.status, again.status) == ("closed", "closed")
    assert closed.closed_at is not None
    assert Event.objects.filter(name="payment.closed").count() == 1


def test_offline_record_is_a_succeeded_intent_with_ledger_event_and_audit(record_offline, advisor):
    intent = record_offline(
        reference="FO7K3M9Q2X4T8V",
        amount=Money(25_000_000),
        receipt_number="POS-2026-000123",
        idempotency_key="order:FO1:final:store",
    )

    assert (intent.provider, intent.channel, intent.status, intent.amount_fen) == (
        "offline",
        "store",
        "succeeded",
        25_000_000,
    )
    assert (intent.receipt_number, intent.recorded_by, intent.provider_trade_no) == (
        "POS-2026-000123",
        advisor,
        "POS-2026-000123",
    )
    assert intent.paid_at is not None
    assert sorted(LedgerEntry.objects.values_list("account", "amount_fen")) == [
        ("customer_funds:order.final", -25_000_000),
        ("gateway:offline", 25_000_000),
    ]
    event = Event.objects.get(name="payment.succeeded")
    assert event.actor == advisor
    assert event.payload == {
        "intent": intent.public_id,
        "purpose": "order.final",
        "reference": "FO7K3M9Q2X4T8V",
        "amount_fen": 25_000_000,
        "currency": "CNY",
        "provider": "offline",
        "paid_at": intent.paid_at.isoformat(),
    }
    audit = AuditEntry.objects.get(action="payment.offline_recorded")
    assert (audit.actor, audit.object_id) == (advisor, intent.public_id)


def test_offline_record_replayed_with_its_key_records_once(record_offline):
    first = record_offline()
    again = record_offline()

    assert again.pk == first.pk
    assert LedgerEntry.objects.count() == 2
    assert Event.objects.filter(name="payment.succeeded").count() == 1


def test_the_same_receipt_under_another_key_is_refused(record_offline):
    record_offline(idempotency_key="store-1")

    with pytest.raises(DomainError) as raised:
        record_offline(idempotency_key="store-2")

    assert (raised.value.code, raised.value.status) == ("receipt_already_recorded", 409)
    assert PaymentIntent.objects.count() == 1
    assert LedgerEntry.objects.count() == 2
    assert Event.objects.filter(name="payment.succeeded").count() == 1


def test_a_consumer_cannot_record_a_store_payment(record_offline, payer):
    with pytest.raises(DomainError) as raised:
        record_offline(actor=payer)

    assert (raised.value.code, raised.value.status) == ("forbidden", 403)
    assert PaymentIntent.objects.count() == 0
    assert not Event.objects.exists()


def test_selectors_find_intents_by_id_and_reference(create_intent):
    deposit = create_intent()
    final = create_intent(purpose="order.final", amount=Money(100_00))
    create_intent(reference="FOOTHER")

    assert payment_intent_get(public_id=deposit.public_id) == deposit
    assert payment_intents_for(reference="FO7K3M9Q2X4T8V") == [deposit, final]
    assert payment_intents_for(reference="FO7K3M9Q2X4T8V", purpose="order.final") == [final]
    with pytest.raises(DomainError) as raised:
        payment_intent_get(public_id="pay_NOPE")
    assert raised.value.status == 404
    assert DEPOSIT.amount == deposit.amount_fen
