"""Notifications: verified, logged, credited exactly once; anything else changes nothing."""

from __future__ import annotations

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecourt.core.models import Event
from forecourt.payments.models import LedgerEntry, PaymentIntent, PaymentNotification
from forecourt.payments.services import payment_intent_close

from .conftest import money_state, receive, sandbox_notification


def test_a_genuine_success_notification_credits_the_intent(intent):
    outcome = receive(*sandbox_notification(intent))

    assert (outcome.accepted, outcome.duplicate, outcome.reason) == (True, False, "credited")
    assert (outcome.response_status, outcome.response_body, outcome.content_type) == (
        200,
        b'{"code":"SUCCESS"}',
        "application/json",
    )
    intent.refresh_from_db()
    assert intent.status == "succeeded"
    assert intent.provider_trade_no == f"SBX{intent.out_trade_no}"
    assert intent.paid_at is not None
    assert sorted(LedgerEntry.objects.values_list("group", "account", "amount_fen")) == [
        (f"payment:{intent.out_trade_no}", "customer_funds:order.deposit", -500_000),
        (f"payment:{intent.out_trade_no}", "gateway:sandbox", 500_000),
    ]
    event = Event.objects.get(name="payment.succeeded")
    assert (event.subject_type, event.subject_id) == ("payment_intent", intent.public_id)
    assert event.payload == {
        "intent": intent.public_id,
        "purpose": "order.deposit",
        "reference": "FO7K3M9Q2X4T8V",
        "amount_fen": 500_000,
        "currency": "CNY",
        "provider": "sandbox",
        "paid_at": intent.paid_at.isoformat(),
    }
    logged = PaymentNotification.objects.get()
    assert (logged.provider, logged.outcome, logged.reason, logged.status, logged.amount_fen) == (
        "sandbox",
        "accepted",
        "credited",
        "succeeded",
        500_000,
    )
    assert (logged.intent, logged.out_trade_no, logged.ip) == (intent, intent.out_trade_no, "203.0.113.7")
    assert logged.notification_id == f"SBN{intent.out_trade_no}SUCCEEDED"


def test_the_same_notification_replayed_ten_times_credits_once(intent):
    headers, body = sandbox_notification(intent)

    outcomes = [receive(headers, body) for _ in range(10)]

    assert [(item.accepted, item.duplicate) for item in outcomes] == [(True, False)] + [(True, True)] * 9
    assert all(item.response_status == 200 for item in outcomes)
    assert LedgerEntry.objects.count() == 2
    assert Event.objects.filter(name="payment.succeeded").count() == 1
    assert (
        list(PaymentNotification.objects.order_by("pk").values_list("outcome", flat=True))
        == ["accepted"] + ["duplicate"] * 9
    )


def test_another_success_notification_for_a_paid_intent_is_a_duplicate(intent):
    receive(*sandbox_notification(intent))

    outcome = receive(*sandbox_notification(intent, notification_id="SBN-SECOND"))

    assert (outcome.accepted, outcome.duplicate, outcome.reason) == (True, True, "already_succeeded")
    assert LedgerEntry.objects.count() == 2
    assert Event.objects.filter(name="payment.succeeded").count() == 1


def test_a_changed_amount_is_rejected_even_when_signed(intent):
    before = money_state()

    outcome = receive(*sandbox_notification(intent, amount_fen=1))

    assert (outcome.accepted, outcome.reason, outcome.response_status) == (False, "amount_mismatch", 400)
    assert money_state() == before
    logged = PaymentNotification.objects.get()
    assert (logged.outcome, logged.reason, logged.intent) == ("rejected", "amount_mismatch", intent)


def test_an_unknown_trade_is_rejected(intent):
    before = money_state()

    outcome = receive(*sandbox_notification(intent, out_trade_no="FCNOSUCHTRADE0000000000"))

    assert (outcome.accepted, outcome.reason) == (False, "unknown_trade")
    assert money_state() == before
    assert PaymentNotification.objects.get().outcome == "rejected"


def test_a_notification_to_another_providers_endpoint_is_an_unknown_trade(create_intent):
    # A sandbox-signed notification naming an Alipay intent must not pay it.
    with override_settings(PAYMENTS_SANDBOX_ENABLED=True):
        intent = create_intent()
    PaymentIntent.objects.filter(pk=intent.pk).update(provider="alipay", channel="page")
    before = money_state()

    outcome = receive(*sandbox_notification(intent))

    assert (outcome.accepted, outcome.reason) == (False, "unknown_trade")
    assert money_state() == before


def test_a_failure_notification_fails_the_intent_and_records_payment_failed(intent):
    outcome = receive(*sandbox_notification(intent, status="failed", reason="payer_declined"))

    assert (outcome.accepted, outcome.reason) == (True, "failed")
    intent.refresh_from_db()
    assert (intent.status, intent.failure_reason) == ("failed", "payer_declined")
    event = Event.objects.get(name="payment.failed")
    assert event.payload == {
        "intent": intent.public_id,
        "purpose": "order.deposit",
        "reference": "FO7K3M9Q2X4T8V",
        "reason": "payer_declined",
    }
    assert LedgerEntry.objects.count() == 0


def test_a_late_success_on_a_closed_intent_is_still_credited(intent):
    payment_intent_close(intent=intent)

    outcome = receive(*sandbox_notification(intent))

    assert (outcome.accepted, outcome.reason) == (True, "credited")
    intent.refresh_from_db()
    assert intent.status == "succeeded"
    assert LedgerEntry.objects.count() == 2
    assert Event.objects.filter(name="payment.succeeded").count() == 1


def test_a_closed_notification_after_payment_changes_nothing(intent):
    receive(*sandbox_notification(intent))
    before = money_state()

    outcome = receive(*sandbox_notification(intent, status="closed", reason="cancelled"))

    assert (outcome.accepted, outcome.duplicate, outcome.reason) == (True, True, "already_succeeded")
    after = money_state()
    assert after == before
    assert not Event.objects.filter(name="payment.failed").exists()


def test_the_log_keeps_no_signature_and_no_phone_number(intent):
    headers, body = sandbox_notification(intent, reason="13800138000")

    receive(headers, body)

    logged = PaymentNotification.objects.get()
    assert "13800138000" not in logged.body and "13800138000" not in str(logged.fields)
    assert headers["X-Sandbox-Signature"] not in logged.body


@pytest.mark.parametrize(
    "body",
    [b"", b"garbage", b"\xff\xfe\x00", b"{}", b"[]", b"null", b'{"id": 1}', b"a=b&c=d", b"x" * 100_000],
)
def test_the_notify_endpoint_answers_garbage_with_failure_and_logs_it(client, intent, body):
    before = money_state()

    response = client.post("/payments/sandbox/notify", data=body, content_type="application/json")

    assert response.status_code == 400
    assert response.content == b'{"code":"FAIL"}'
    assert money_state() == before
    logged = PaymentNotification.objects.get()
    assert (logged.provider, logged.outcome, logged.reason) == ("sandbox", "rejected", "malformed")
    assert len(logged.body) <= 4000


def test_the_notify_endpoint_credits_a_genuine_notification(client, intent):
    headers, body = sandbox_notification(intent)

    response = client.post(
        "/payments/sandbox/notify",
        data=body,
        content_type="application/json",
        headers={key: value for key, value in headers.items() if key != "Content-Type"},
    )

    assert (response.status_code, response.content) == (200, b'{"code":"SUCCESS"}')
    intent.refresh_from_db()
    assert intent.status == "succeeded"


def test_header_names_are_matched_whatever_their_case(client, intent):
    headers, body = sandbox_notification(intent)
    lowered = {key.lower(): value for key, value in headers.items()}

    outcome = receive(lowered, body)

    assert outcome.accepted is True


def test_the_notify_endpoint_for_an_unknown_provider_is_404(client, db):
    response = client.post("/payments/paypal/notify", data=b"{}", content_type="application/json")

    assert response.status_code == 404
    assert not PaymentNotification.objects.exists()


def test_the_notify_endpoint_refuses_get(client, db):
    assert client.get("/payments/sandbox/notify").status_code == 405


def test_the_notify_endpoint_answers_failure_when_the_service_breaks(client, intent, monkeypatch):
    from forecourt.payments import views

    def broken(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(views, "payment_notification_receive", broken)
    _headers, body = sandbox_notification(intent)

    response = client.post("/payments/sandbox/notify", data=body, content_type="application/json")

    assert (response.status_code, response.content) == (400, b'{"code":"FAIL"}')
    intent.refresh_from_db()
    assert intent.status == "created"


def test_a_disabled_sandbox_rejects_even_a_genuine_notification(intent):
    headers, body = sandbox_notification(intent)
    before = money_state()

    with override_settings(PAYMENTS_SANDBOX_ENABLED=False):
        outcome = receive(headers, body)

    assert (outcome.accepted, outcome.reason) == (False, "not_configured")
    assert money_state() == before


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=600),
    timestamp=st.one_of(st.none(), st.text(max_size=14), st.integers(-(10**12), 10**12).map(str)),
    signature=st.one_of(st.none(), st.text(max_size=70), st.binary(min_size=32, max_size=32).map(bytes.hex)),
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"]),
)
def test_any_bytes_and_headers_posted_to_notify_are_rejected_never_a_500(
    client, intent, body, timestamp, signature, content_type
):
    headers = {}
    if timestamp is not None and "\x00" not in timestamp and "\n" not in timestamp and "\r" not in timestamp:
        headers["X-Sandbox-Timestamp"] = timestamp
    if signature is not None and "\x00" not in signature and "\n" not in signature and "\r" not in signature:
        headers["X-Sandbox-Signature"] = signature
    accepted_before = PaymentNotification.objects.exclude(outcome="rejected").count()

    response = client.post("/payments/sandbox/notify", data=body, content_type=content_type, headers=headers)

    assert (response.status_code, response.content) == (400, b'{"code":"FAIL"}')
    assert PaymentNotification.objects.exclude(outcome="rejected").count() == accepted_before
    assert not LedgerEntry.objects.exists()
    assert PaymentIntent.objects.get(pk=intent.pk).status == "created"


def test_an_unexpected_integrity_failure_is_not_acknowledged_as_success(client, intent):
    # A stray ledger movement under this payment's group makes the credit fail on the unique constraint.
    LedgerEntry.objects.create(
        group=f"payment:{intent.out_trade_no}",
        account="gateway:sandbox",
        amount_fen=1,
        kind="payment",
        intent=intent,
        created_at=intent.created_at,
    )
    headers, body = sandbox_notification(intent)

    response = client.post(
        "/payments/sandbox/notify",
        data=body,
        content_type="application/json",
        headers={key: value for key, value in headers.items() if key != "Content-Type"},
    )

    assert (response.status_code, response.content) == (400, b'{"code":"FAIL"}')
    intent.refresh_from_db()
    assert intent.status == "created"
    assert not PaymentNotification.objects.filter(outcome="accepted").exists()
    assert not Event.objects.filter(name="payment.succeeded").exists()
