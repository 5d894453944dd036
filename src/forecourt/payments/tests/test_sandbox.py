"""The sandbox provider: its signature, a thousand forgeries, and the payment page a payer clicks through."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecourt.core import clock
from forecourt.core.models import Event
from forecourt.core.money import Money
from forecourt.payments.models import LedgerEntry, PaymentIntent, PaymentNotification
from forecourt.payments.providers import NotificationRejected, provider_get
from forecourt.payments.providers.sandbox import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SandboxProvider,
    sandbox_signature,
)
from forecourt.payments.services import payment_start

from .conftest import money_state, receive, sandbox_notification

OTHER_KEY = b"not-the-sandbox-key-0123456789abcdef"


def test_the_registry_builds_the_sandbox_and_offline_providers():
    assert provider_get("sandbox").name == "sandbox"
    assert provider_get("offline").name == "offline"


def test_verify_returns_the_signed_fields(intent):
    headers, body = sandbox_notification(intent)

    verified = SandboxProvider().verify_notification(headers=headers, body=body)

    assert (verified.out_trade_no, verified.amount_fen, verified.status) == (
        intent.out_trade_no,
        500_000,
        "succeeded",
    )
    assert verified.notification_id == f"SBN{intent.out_trade_no}SUCCEEDED"


@pytest.mark.parametrize(
    ("age_seconds", "reason"), [(301, "stale"), (-301, "stale"), (299, None), (-299, None)]
)
def test_a_notification_older_or_newer_than_five_minutes_is_stale(intent, age_seconds, reason):
    headers, body = sandbox_notification(intent, timestamp=int(clock.now().timestamp()) - age_seconds)

    if reason is None:
        assert SandboxProvider().verify_notification(headers=headers, body=body).status == "succeeded"
    else:
        with pytest.raises(NotificationRejected) as raised:
            SandboxProvider().verify_notification(headers=headers, body=body)
        assert raised.value.reason == reason


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_change_to_a_signed_body_or_its_timestamp_breaks_the_signature(intent, data):
    headers, body = sandbox_notification(intent)
    if data.draw(st.booleans(), label="change the body"):
        position = data.draw(st.integers(0, len(body) - 1), label="position")
        flip = data.draw(st.integers(1, 255), label="xor")
        body = body[:position] + bytes([body[position] ^ flip]) + body[position + 1 :]
    else:
        stamp = int(headers[TIMESTAMP_HEADER]) + data.draw(st.integers(-200, 200).filter(bool), label="shift")
        headers = {**headers, TIMESTAMP_HEADER: str(stamp)}

    with pytest.raises(NotificationRejected) as raised:
        SandboxProvider().verify_notification(headers=headers, body=body)

    assert raised.value.reason in {"bad_signature", "malformed"}


def _forgeries(intent: PaymentIntent, count: int, rng: random.Random) -> list[tuple[str, dict, bytes]]:
    """`count` forged or tampered notifications for `intent`, each with the reason it must fail for."""
    now = int(clock.now().timestamp())
    forged: list[tuple[str, dict, bytes]] = []
    kinds = [
        "bad_signature",
        "other_key",
        "changed_amount",
        "stale",
        "unknown_trade",
        "signed_amount",
        "no_header",
    ]
    for index in range(count):
        kind = kinds[index % len(kinds)]
        amount = rng.choice([1, intent.amount_fen - 1, intent.amount_fen + 1, rng.randint(1, 10**9)])
        headers, body = sandbox_notification(intent, notification_id=f"FORGED{index}")
        if kind == "bad_signature":
            headers[SIGNATURE_HEADER] = f"{rng.getrandbits(256):064x}"
            expected = "bad_signature"
        elif kind == "other_key":
            headers[SIGNATURE_HEADER] = sandbox_signature(
                timestamp=headers[TIMESTAMP_HEADER], body=body, key=OTHER_KEY + bytes([index % 256])
            )
            expected = "bad_signature"
        elif kind == "changed_amount":
            fields = json.loads(body)
            fields["amount_fen"] = amount if amount != intent.amount_fen else amount + 1
            body = json.dumps(fields, separators=(",", ":")).encode()
            expected = "bad_signature"
        elif kind == "stale":
            stamp = now - rng.randint(301, 86_400 * 30) * rng.choice([1, -1])
            headers, body = sandbox_notification(intent, notification_id=f"FORGED{index}", timestamp=stamp)
            expected = "stale"
        elif kind == "unknown_trade":
            headers, body = sandbox_notification(
                intent, notification_id=f"FORGED{index}", out_trade_no=f"FC{rng.getrandbits(100):022X}"[:24]
            )
            expected = "unknown_trade"
        elif kind == "signed_amount":
            headers, body = sandbox_notification(
                intent,
                notification_id=f"FORGED{index}",
                amount_fen=amount if amount != intent.amount_fen else 2,
            )
            expected = "amount_mismatch"
        else:
            del headers[rng.choice([SIGNATURE_HEADER, TIMESTAMP_HEADER])]
            expected = "malformed"
        forged.append((expected, headers, body))
    return forged


def test_a_thousand_forged_or_tampered_notifications_are_all_rejected_and_change_nothing(intent):
    forgeries = _forgeries(intent, 1_050, random.Random(4))
    before = money_state()

    outcomes = [(expected, receive(headers, body)) for expected, headers, body in forgeries]

    assert [outcome.reason for _expected, outcome in outcomes] == [expected for expected, _o in outcomes]
    assert not any(outcome.accepted for _expected, outcome in outcomes)
    assert {outcome.response_status for _expected, outcome in outcomes} == {400}
    assert money_state() == before
    assert LedgerEntry.objects.count() == 0
    assert not Event.objects.filter(name__in=["payment.succeeded", "payment.failed"]).exists()
    assert PaymentNotification.objects.filter(outcome="rejected").count() == 1_050
    assert PaymentNotification.objects.exclude(outcome="rejected").count() == 0
    # ... and the genuine notification still pays, once.
    assert receive(*sandbox_notification(intent)).accepted is True
    assert LedgerEntry.objects.count() == 2


# --- the payment page ------------------------------------------------------------------------------


@pytest.fixture
def started(intent):
    payment_start(intent=intent, return_url="/orders/FO7K3M9Q2X4T8V/")
    intent.refresh_from_db()
    return intent


def _page(intent: PaymentIntent) -> str:
    return f"/payments/sandbox/{intent.out_trade_no}/"


def test_the_page_shows_the_amount_and_three_choices_in_chinese(client, started, payments_catalogue):
    response = client.get(_page(started))

    assert response.status_code == 200
    html = response.content.decode()
    assert "沙箱支付" in html
    assert "¥5,000" in html
    assert 'value="pay"' in html and 'value="fail"' in html and 'value="cancel"' in html
    assert started.out_trade_no in html


def test_the_page_speaks_english_on_the_switch(client, started, payments_catalogue):
    client.cookies["django_language"] = "en"

    html = client.get(_page(started), headers={"Accept-Language": "en"}).content.decode()

    assert "Sandbox payment" in html


def test_paying_sends_a_signed_notification_and_returns_the_browser(client, started):
    response = client.post(_page(started), {"action": "pay"})

    assert (response.status_code, response["Location"]) == (302, "/orders/FO7K3M9Q2X4T8V/")
    started.refresh_from_db()
    assert started.status == "succeeded"
    assert started.provider_trade_no.startswith("SBX")
    logged = PaymentNotification.objects.get()
    assert (logged.outcome, logged.reason, logged.ip) == ("accepted", "credited", "127.0.0.1")
    assert Event.objects.filter(name="payment.succeeded").count() == 1
    assert LedgerEntry.objects.count() == 2


def test_pressing_pay_twice_pays_once(client, started):
    client.post(_page(started), {"action": "pay"})
    PaymentIntent.objects.filter(pk=started.pk).update(status="created", paid_at=None)  # a stale page

    client.post(_page(started), {"action": "pay"})

    assert list(PaymentNotification.objects.order_by("pk").values_list("outcome", flat=True)) == [
        "accepted",
        "duplicate",
    ]
    assert LedgerEntry.objects.count() == 2
    assert Event.objects.filter(name="payment.succeeded").count() == 1


def test_failing_fails_the_intent_and_records_why(client, started):
    response = client.post(_page(started), {"action": "fail"})

    assert response.status_code == 302
    started.refresh_from_db()
    assert (started.status, started.failure_reason) == ("failed", "payer_declined")
    assert Event.objects.get(name="payment.failed").payload["reason"] == "payer_declined"
    assert LedgerEntry.objects.count() == 0


def test_cancelling_closes_the_intent(client, started):
    client.post(_page(started), {"action": "cancel"})

    started.refresh_from_db()
    assert (started.status, started.failure_reason) == ("closed", "cancelled")
    assert Event.objects.get(name="payment.failed").payload["reason"] == "cancelled"
    assert LedgerEntry.objects.count() == 0


def test_a_settled_payment_offers_no_buttons_and_takes_no_second_choice(client, started):
    client.post(_page(started), {"action": "pay"})
    before = money_state()

    page = client.get(_page(started)).content.decode()
    response = client.post(_page(started), {"action": "fail"})

    assert 'value="pay"' not in page and 'id="sandbox-settled"' in page
    assert response.status_code == 409
    assert money_state() == before


def test_an_expired_payment_cannot_be_paid(client, started):
    before = money_state()

    with clock.frozen_at(started.expires_at + timedelta(seconds=1)):
        response = client.post(_page(started), {"action": "pay"})

    assert response.status_code == 409
    assert 'id="sandbox-error"' in response.content.decode()
    assert money_state() == before
    assert not PaymentNotification.objects.exists()


def test_an_unknown_choice_is_refused(client, started):
    response = client.post(_page(started), {"action": "steal"})

    assert response.status_code == 422
    assert not PaymentNotification.objects.exists()


def test_a_return_url_on_another_host_is_not_followed(client, create_intent):
    intent = create_intent()
    payment_start(intent=intent, return_url="https://evil.example/phish")

    response = client.post(_page(intent), {"action": "pay"})

    assert response["Location"] == _page(intent)


def test_unknown_or_non_sandbox_trades_and_a_disabled_sandbox_are_404(client, started, create_intent):
    store = create_intent(provider="offline", amount=Money(100))

    assert client.get("/payments/sandbox/FCNOSUCHTRADE/").status_code == 404
    assert client.get(_page(store)).status_code == 404
    with override_settings(PAYMENTS_SANDBOX_ENABLED=False):
        assert client.get(_page(started)).status_code == 404
        assert client.post(_page(started), {"action": "pay"}).status_code == 404
    started.refresh_from_db()
    assert started.status == "created"
