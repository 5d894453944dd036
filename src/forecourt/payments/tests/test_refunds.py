"""Refunds: never more than paid, each written once, payment.refunded only once the money is back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.core.money import Money
from forecourt.payments.models import LedgerEntry, PaymentIntent, Refund
from forecourt.payments.providers import RefundResult
from forecourt.payments.services import payment_refund, payment_refund_settle, payments_sweep

from .conftest import money_state


def _refund(intent, fen: int, key: str = "refund-1", **extra):
    return payment_refund(
        intent=intent, amount=Money(fen), reason="客户取消订单", idempotency_key=key, **extra
    )


def test_a_sandbox_refund_succeeds_at_once_with_ledger_and_event(paid, advisor):
    refund = _refund(paid, 200_000, actor=advisor)

    assert (refund.status, refund.amount_fen, refund.actor) == ("succeeded", 200_000, advisor)
    assert refund.public_id.startswith("rfd_") and refund.provider_refund_id.startswith("SBR")
    paid.refresh_from_db()
    assert (paid.refunded_fen, paid.refunding_fen, paid.refundable_fen) == (200_000, 0, 300_000)
    assert sorted(LedgerEntry.objects.filter(kind="refund").values_list("account", "amount_fen")) == [
        ("customer_funds:order.deposit", 200_000),
        ("gateway:sandbox", -200_000),
    ]
    event = Event.objects.get(name="payment.refunded")
    assert (event.subject_type, event.subject_id, event.actor) == ("payment_intent", paid.public_id, advisor)
    assert event.payload == {
        "refund": refund.public_id,
        "intent": paid.public_id,
        "purpose": "order.deposit",
        "reference": "FO7K3M9Q2X4T8V",
        "amount_fen": 200_000,
        "currency": "CNY",
    }


def test_refunds_up_to_the_amount_paid_and_no_further(paid):
    _refund(paid, 300_000, key="r1")
    _refund(paid, 200_000, key="r2")
    before = money_state()

    with pytest.raises(DomainError) as raised:
        _refund(paid, 1, key="r3")

    assert (raised.value.code, raised.value.status) == ("refund_exceeds_paid", 409)
    assert raised.value.details == {"refundable": {"amount": 0, "currency": "CNY"}}
    assert money_state() == before
    paid.refresh_from_db()
    assert paid.refunded_fen == 500_000


def test_a_refund_larger_than_what_is_left_is_refused(paid):
    _refund(paid, 400_000, key="r1")
    before = money_state()

    with pytest.raises(DomainError) as raised:
        _refund(paid, 100_001, key="r2")

    assert raised.value.code == "refund_exceeds_paid"
    assert raised.value.details == {"refundable": {"amount": 100_000, "currency": "CNY"}}
    assert money_state() == before


def test_an_unpaid_intent_cannot_be_refunded(intent):
    with pytest.raises(DomainError) as raised:
        _refund(intent, 100)

    assert (raised.value.code, raised.value.status) == ("payment_not_refundable", 409)
    assert not Refund.objects.exists()


@pytest.mark.parametrize(("fen", "field"), [(0, "amount"), (-5, "amount")])
def test_a_refund_of_nothing_is_invalid(paid, fen, field):
    with pytest.raises(DomainError) as raised:
        _refund(paid, fen)

    assert raised.value.details[0]["field"] == field
    assert not Refund.objects.exists()


def test_the_same_key_refunds_once(paid):
    first = _refund(paid, 100_000)
    again = _refund(paid, 100_000)

    assert again.pk == first.pk
    paid.refresh_from_db()
    assert paid.refunded_fen == 100_000
    assert Event.objects.filter(name="payment.refunded").count() == 1
    assert LedgerEntry.objects.filter(kind="refund").count() == 2


def test_the_same_key_for_another_amount_is_refused(paid):
    _refund(paid, 100_000)
    before = money_state()

    with pytest.raises(DomainError) as raised:
        _refund(paid, 100_001)

    assert (raised.value.code, raised.value.status) == ("idempotency_key_reused", 422)
    assert money_state() == before


def test_the_database_refuses_refunded_beyond_paid(paid):
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentIntent.objects.filter(pk=paid.pk).update(refunded_fen=500_001)


def test_the_database_refuses_refunds_of_an_unpaid_intent(intent):
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentIntent.objects.filter(pk=intent.pk).update(refunded_fen=1)


# --- gateway refunds: reserved now, called after commit, settled on the gateway's answer -------------


def test_a_gateway_refund_is_reserved_then_pending_without_an_event(
    paid_at_gateway, fake_gateway, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        refund = _refund(paid_at_gateway, 300_000)

    refund.refresh_from_db()
    assert (refund.status, refund.provider_refund_id) == ("pending", f"GW{refund.out_refund_no}")
    assert fake_gateway.calls == [("refund", refund.out_refund_no)]
    paid_at_gateway.refresh_from_db()
    assert (paid_at_gateway.refunded_fen, paid_at_gateway.refunding_fen) == (0, 300_000)
    assert not Event.objects.filter(name="payment.refunded").exists()
    assert LedgerEntry.objects.filter(kind="refund").count() == 0
    # What is reserved cannot be refunded a second time.
    with pytest.raises(DomainError) as raised:
        _refund(paid_at_gateway, 200_001, key="refund-2")
    assert raised.value.details == {"refundable": {"amount": 200_000, "currency": "CNY"}}


def test_a_pending_gateway_refund_settles_once_when_the_gateway_confirms(
    paid_at_gateway, fake_gateway, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        refund = _refund(paid_at_gateway, 300_000)

    settled = payment_refund_settle(refund=refund, result=RefundResult(status="succeeded"))
    again = payment_refund_settle(refund=refund, result=RefundResult(status="succeeded"))

    assert (settled.status, again.status) == ("succeeded", "succeeded")
    paid_at_gateway.refresh_from_db()
    assert (paid_at_gateway.refunded_fen, paid_at_gateway.refunding_fen) == (300_000, 0)
    assert Event.objects.filter(name="payment.refunded").count() == 1
    assert sorted(LedgerEntry.objects.filter(kind="refund").values_list("account", "amount_fen")) == [
        ("customer_funds:order.deposit", 300_000),
        ("gateway:alipay", -300_000),
    ]


def test_a_gateway_refund_confirmed_at_once_succeeds_after_commit(
    paid_at_gateway, fake_gateway, django_capture_on_commit_callbacks
):
    fake_gateway.refund_answer = "succeeded"

    with django_capture_on_commit_callbacks(execute=True):
        refund = _refund(paid_at_gateway, 500_000)

    refund.refresh_from_db()
    assert refund.status == "succeeded"
    paid_at_gateway.refresh_from_db()
    assert (paid_at_gateway.refunded_fen, paid_at_gateway.refunding_fen) == (500_000, 0)
    assert Event.objects.filter(name="payment.refunded").count() == 1


def test_a_failed_gateway_refund_releases_the_reservation(
    paid_at_gateway, fake_gateway, django_capture_on_commit_callbacks
):
    fake_gateway.refund_answer = "failed"

    with django_capture_on_commit_callbacks(execute=True):
        refund = _refund(paid_at_gateway, 500_000)

    refund.refresh_from_db()
    assert (refund.status, refund.message) == ("failed", "failed")
    paid_at_gateway.refresh_from_db()
    assert (paid_at_gateway.refunded_fen, paid_at_gateway.refunding_fen) == (0, 0)
    assert not Event.objects.filter(name="payment.refunded").exists()
    assert Event.objects.get(name="payment.refund_failed").payload["refund"] == refund.public_id
    assert LedgerEntry.objects.filter(kind="refund").count() == 0


def test_a_lost_gateway_call_is_asked_again_by_the_sweeper(
    paid_at_gateway, fake_gateway, django_capture_on_commit_callbacks
):
    fake_gateway.refund_answer = ConnectionError("gateway unreachable")
    with django_capture_on_commit_callbacks(execute=True):
        refund = _refund(paid_at_gateway, 100_000)
    refund.refresh_from_db()
    assert refund.status == "pending"

    fake_gateway.refund_answer = "succeeded"
    assert payments_sweep()["refunds_resubmitted"] == 0  # too soon: the first call may still be under way
    with clock.frozen_at(clock.now() + timedelta(minutes=6)):
        assert payments_sweep()["refunds_resubmitted"] == 1

    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert [call for call, _number in fake_gateway.calls] == ["refund", "refund"]
    assert {number for _call, number in fake_gateway.calls} == {refund.out_refund_no}
    assert Event.objects.filter(name="payment.refunded").count() == 1
