"""Alipay: paying, notifications, refunds and queries against a local stand-in of Alipay's gateway."""

from __future__ import annotations

import base64
import json
import random
import urllib.request
from collections import Counter
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.core.money import Money
from forecourt.payments.models import LedgerEntry, PaymentIntent, PaymentNotification, Refund
from forecourt.payments.providers import NotificationRejected, provider_get
from forecourt.payments.providers.alipay import AlipayProvider, fen_from_yuan, yuan_from_fen
from forecourt.payments.services import (
    payment_intent_query,
    payment_refund,
    payment_refund_submit,
    payment_start,
)

from .conftest import money_state, receive, two_at_once
from .gateways import AlipayStandIn, private_pem, rsa2_sign, rsa_key

NOTIFY_URL = "/payments/alipay/notify"


@pytest.fixture(scope="module")
def gateway() -> Iterator[AlipayStandIn]:
    stand_in = AlipayStandIn()
    yield stand_in
    stand_in.close()


@pytest.fixture(scope="module")
def attacker_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture
def alipay(settings, gateway) -> AlipayProvider:
    for name, value in gateway.settings().items():
        setattr(settings, name, value)
    gateway.answer_key = None
    return AlipayProvider()


def trade(out_trade_no: str = "FC0000000000000000000001", amount_fen: int = 500_000) -> Any:
    """What a provider reads of an intent, without the database."""
    return SimpleNamespace(
        out_trade_no=out_trade_no,
        amount_fen=amount_fen,
        currency="CNY",
        description="极光 Aurora 定金",
        channel="page",
        payer_reference="",
        expires_at=None,
        public_id="pay_test",
    )


def opened(gateway: AlipayStandIn, alipay: AlipayProvider, **fields: Any) -> Any:
    """A trade the payer has opened at the stand-in's cashier page."""
    intent = trade(**fields)
    start = alipay.start(intent, return_url="https://forecourt.example.com/orders/FO1/", channel="page")
    assert urllib.request.urlopen(start.url, timeout=5).read().decode() == "<h1>支付宝收银台</h1>"
    return intent


# Amounts ------------------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=10**14 - 1))
def test_yuan_strings_and_fen_convert_exactly(amount_fen):
    assert fen_from_yuan(yuan_from_fen(amount_fen)) == amount_fen


@pytest.mark.parametrize(
    ("text", "fen"), [("0.01", 1), ("5000.00", 500_000), ("123.4", 12_340), ("7", 700), ("0.10", 10)]
)
def test_yuan_amounts_become_exact_fen(text, fen):
    assert fen_from_yuan(text) == fen


@pytest.mark.parametrize(
    "text", ["", "1e3", "-1.00", "1.234", "01.00", " 1.00", "1.", ".5", "NaN", "１.00", "1,00"]
)
def test_anything_but_a_plain_yuan_amount_is_refused(text):
    with pytest.raises(ValueError):
        fen_from_yuan(text)


# Configuration and paying -------------------------------------------------------------------------


def test_without_keys_alipay_is_not_configured_and_believes_nothing(settings, gateway):
    for name in ("ALIPAY_APP_ID", "ALIPAY_APP_PRIVATE_KEY", "ALIPAY_PUBLIC_KEY"):
        setattr(settings, name, "")
    provider = provider_get("alipay")

    assert provider.is_configured() is False
    with pytest.raises(NotificationRejected) as rejected:
        provider.verify_notification(headers={}, body=gateway.notification("FC1"))
    assert rejected.value.reason == "not_configured"


@pytest.mark.parametrize(
    ("channel", "method", "product_code"),
    [
        ("page", "alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY"),
        ("wap", "alipay.trade.wap.pay", "QUICK_WAP_PAY"),
    ],
)
def test_paying_redirects_to_the_gateway_with_a_query_alipay_accepts(
    alipay, gateway, channel, method, product_code
):
    intent = trade(f"FC{channel.upper()}PAY000000000001")
    start = alipay.start(intent, return_url="/orders/FO7K3M9Q2X4T8V/", channel=channel)

    assert start.kind == "redirect"
    assert start.url.startswith(gateway.gateway_url + "?")
    query = dict(parse_qsl(urlsplit(start.url).query))
    assert (query["app_id"], query["method"], query["sign_type"], query["charset"]) == (
        gateway.app_id,
        method,
        "RSA2",
        "utf-8",
    )
    assert query["notify_url"] == "https://forecourt.example.com/payments/alipay/notify"
    assert query["return_url"] == "https://forecourt.example.com/orders/FO7K3M9Q2X4T8V/"
    biz = json.loads(query["biz_content"])
    assert (biz["out_trade_no"], biz["total_amount"], biz["subject"], biz["product_code"]) == (
        intent.out_trade_no,
        "5000.00",
        "极光 Aurora 定金",
        product_code,
    )
    assert ("quit_url" in biz) is (channel == "wap")
    # The stand-in checks our RSA2 signature the way Alipay does before showing its cashier.
    assert urllib.request.urlopen(start.url, timeout=5).read().decode() == "<h1>支付宝收银台</h1>"
    assert gateway.trades[intent.out_trade_no]["total_amount"] == "5000.00"


def test_an_unknown_channel_is_refused(alipay):
    with pytest.raises(DomainError) as refused:
        alipay.start(trade(), return_url="/orders/FO1/", channel="native")
    assert (refused.value.code, refused.value.status) == ("payment_not_payable", 422)


# Notifications ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trade_status", "status"),
    [
        ("TRADE_SUCCESS", "succeeded"),
        ("TRADE_FINISHED", "succeeded"),
        ("TRADE_CLOSED", "closed"),
        ("WAIT_BUYER_PAY", "pending"),
    ],
)
def test_a_genuine_notification_is_believed(alipay, gateway, trade_status, status):
    intent = opened(gateway, alipay)
    body = gateway.notification(intent.out_trade_no, trade_status=trade_status, notify_id="N" + trade_status)

    verified = alipay.verify_notification(headers={}, body=body)

    assert (verified.notification_id, verified.out_trade_no, verified.amount_fen, verified.status) == (
        "N" + trade_status,
        intent.out_trade_no,
        500_000,
        status,
    )
    assert verified.provider_trade_no == gateway.trades[intent.out_trade_no]["trade_no"]
    # Nothing that identifies the buyer reaches the log.
    assert not {"buyer_id", "buyer_logon_id", "subject", "sign", "fund_bill_list"} & set(verified.raw)


def forgeries(gateway: AlipayStandIn, attacker_key: rsa.RSAPrivateKey, out_trade_no: str) -> dict[str, bytes]:
    """One notification per way of lying, each with the reason the provider must give."""
    return {
        "bad_signature": gateway.notification(out_trade_no, key=attacker_key),
        "tampered_amount": gateway.notification(out_trade_no, after_signing={"total_amount": "0.01"}),
        "tampered_status": gateway.notification(
            out_trade_no, trade_status="WAIT_BUYER_PAY", after_signing={"trade_status": "TRADE_SUCCESS"}
        ),
        "tampered_trade": gateway.notification("FC9999", after_signing={"out_trade_no": out_trade_no}),
        "truncated_signature": gateway.notification(out_trade_no, after_signing={"sign": "c2lnbmF0dXJl"}),
        "no_signature": gateway.notification(out_trade_no, after_signing={"sign": ""}),
        "rsa1_sign_type": gateway.notification(out_trade_no, after_signing={"sign_type": "RSA"}),
        "other_app": gateway.notification(out_trade_no, changes={"app_id": "2021000199999999"}),
        "other_seller": gateway.notification(out_trade_no, changes={"seller_id": "2088999999999999"}),
        "amount_with_decimals": gateway.notification(out_trade_no, changes={"total_amount": "5000.001"}),
        "unknown_status": gateway.notification(out_trade_no, changes={"trade_status": "TRADE_PAID"}),
        "garbage": b"\xff\xfe<xml>not a form</xml>",
        "repeated_parameter": gateway.notification(out_trade_no) + b"&total_amount=0.01",
    }


REASONS = {
    "bad_signature": "bad_signature",
    "tampered_amount": "bad_signature",
    "tampered_status": "bad_signature",
    "tampered_trade": "bad_signature",
    "truncated_signature": "bad_signature",
    "no_signature": "bad_signature",
    "rsa1_sign_type": "bad_signature",
    "other_app": "wrong_app",
    "other_seller": "wrong_seller",
    "amount_with_decimals": "malformed",
    "unknown_status": "malformed",
    "garbage": "malformed",
    "repeated_parameter": "malformed",
}


def test_each_kind_of_forged_notification_is_rejected_with_its_reason(alipay, gateway, attacker_key):
    intent = opened(gateway, alipay)
    for kind, body in forgeries(gateway, attacker_key, intent.out_trade_no).items():
        with pytest.raises(NotificationRejected) as rejected:
            alipay.verify_notification(headers={}, body=body)
        assert (kind, rejected.value.reason) == (kind, REASONS[kind])


def test_keys_in_the_bare_base64_form_alipays_console_shows_are_accepted(settings, alipay, gateway):
    public_der = gateway.alipay_key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    private_der = gateway.app_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    settings.ALIPAY_PUBLIC_KEY = base64.b64encode(public_der).decode()
    settings.ALIPAY_APP_PRIVATE_KEY = base64.b64encode(private_der).decode()
    provider = AlipayProvider()

    intent = opened(gateway, provider, out_trade_no="FC00000000000000000000B64")
    verified = provider.verify_notification(headers={}, body=gateway.notification(intent.out_trade_no))

    assert (verified.out_trade_no, verified.status) == (intent.out_trade_no, "succeeded")


def test_acknowledgements_are_exactly_what_alipay_reads(alipay):
    assert alipay.acknowledge(accepted=True) == (200, b"success", "text/plain")
    assert alipay.acknowledge(accepted=False) == (200, b"failure", "text/plain")


# Query and refund ---------------------------------------------------------------------------------


def test_query_reports_what_alipay_knows(alipay, gateway):
    intent = trade("FC0000000000000000000Q01")
    assert alipay.query(intent) is None  # Alipay has not seen the trade yet

    opened(gateway, alipay, out_trade_no=intent.out_trade_no)
    waiting = alipay.query(intent)
    assert (waiting.status, waiting.amount_fen) == ("pending", 500_000)

    gateway.pay(intent.out_trade_no)
    paid = alipay.query(intent)
    assert (paid.status, paid.amount_fen, paid.out_trade_no) == ("succeeded", 500_000, intent.out_trade_no)
    assert paid.provider_trade_no == gateway.trades[intent.out_trade_no]["trade_no"]
    assert gateway.calls[-1][0] == "alipay.trade.query"


def test_an_answer_signed_with_another_key_is_not_believed(alipay, gateway, attacker_key):
    intent = opened(gateway, alipay, out_trade_no="FC0000000000000000000Q02")
    gateway.pay(intent.out_trade_no)
    gateway.answer_key = attacker_key

    assert alipay.query(intent) is None
    refund = alipay.refund(intent, out_refund_no="FR0000000000000000000001", amount_fen=100, reason="测试")
    assert refund.status == "pending"  # the refund may have happened: ask again later, never assume


def test_a_request_alipay_cannot_verify_gets_no_believable_answer(settings, alipay, gateway, attacker_key):
    intent = opened(gateway, alipay, out_trade_no="FC0000000000000000000Q03")
    settings.ALIPAY_APP_PRIVATE_KEY = private_pem(attacker_key)

    assert AlipayProvider().query(intent) is None


def test_refund_once_per_number_and_never_beyond_the_trade(alipay, gateway):
    intent = opened(gateway, alipay, out_trade_no="FC0000000000000000000R01")
    gateway.pay(intent.out_trade_no)

    first = alipay.refund(
        intent, out_refund_no="FR0000000000000000000011", amount_fen=100_000, reason="退定金"
    )
    again = alipay.refund(
        intent, out_refund_no="FR0000000000000000000011", amount_fen=100_000, reason="退定金"
    )
    too_much = alipay.refund(intent, out_refund_no="FR0000000000000000000012", amount_fen=400_001, reason="x")

    assert (first.status, first.provider_refund_id) == (
        "succeeded",
        gateway.trades[intent.out_trade_no]["trade_no"],
    )
    assert again.status == "succeeded"  # fund_change N, confirmed by alipay.trade.fastpay.refund.query
    assert (too_much.status, too_much.message) == (
        "failed",
        "40004 ACQ.REFUND_AMT_NOT_EQUAL_TOTAL 退款金额超限",
    )
    refunded = {key: amount for key, amount in gateway.refunds.items() if key[0] == intent.out_trade_no}
    assert refunded == {(intent.out_trade_no, "FR0000000000000000000011"): "1000.00"}
    refund_call = next(
        params
        for method, params in gateway.calls
        if method == "alipay.trade.refund" and intent.out_trade_no in params["biz_content"]
    )
    assert json.loads(refund_call["biz_content"]) == {
        "out_trade_no": intent.out_trade_no,
        "refund_amount": "1000.00",
        "out_request_no": "FR0000000000000000000011",
        "refund_reason": "退定金",
    }


def test_an_unreachable_gateway_leaves_refunds_pending_and_queries_unanswered(settings, alipay):
    settings.ALIPAY_GATEWAY_URL = "http://127.0.0.1:9/gateway.do"
    provider = AlipayProvider()

    assert provider.query(trade()) is None
    assert provider.refund(trade(), out_refund_no="FR1", amount_fen=1, reason="x").status == "pending"


# Through the notify endpoint and the payments services --------------------------------------------


@pytest.fixture
def alipay_intent(alipay, gateway, create_intent) -> PaymentIntent:
    intent = create_intent(provider="alipay", channel="page", idempotency_key=f"alipay-{random.random()}")
    start = payment_start(intent=intent, return_url="/orders/FO7K3M9Q2X4T8V/")
    urllib.request.urlopen(start.url, timeout=5).read()
    return intent


def without_sign(body: bytes) -> bytes:
    return urlencode([(name, value) for name, value in parse_qsl(body.decode()) if name != "sign"]).encode()


def post(client, body: bytes):
    return client.post(NOTIFY_URL, data=body, content_type="application/x-www-form-urlencoded; charset=utf-8")


def test_a_genuine_notification_replayed_ten_times_credits_once(client, alipay_intent, gateway):
    gateway.pay(alipay_intent.out_trade_no)
    body = gateway.notification(alipay_intent.out_trade_no)

    answers = [post(client, body) for _ in range(10)]

    assert [(a.status_code, a.content) for a in answers] == [(200, b"success")] * 10
    alipay_intent.refresh_from_db()
    assert alipay_intent.status == "succeeded"
    assert alipay_intent.provider_trade_no == gateway.trades[alipay_intent.out_trade_no]["trade_no"]
    state = money_state()
    assert state["events"].count("payment.succeeded") == 1
    assert state["ledger"] == 2 and sum(LedgerEntry.objects.values_list("amount_fen", flat=True)) == 0
    outcomes = list(PaymentNotification.objects.values_list("outcome", flat=True))
    assert sorted(outcomes) == ["accepted"] + ["duplicate"] * 9


def test_a_thousand_forged_notifications_are_answered_failure_and_change_nothing(
    client, alipay_intent, gateway, attacker_key
):
    gateway.pay(alipay_intent.out_trade_no)
    otn = alipay_intent.out_trade_no
    before = money_state()
    rng = random.Random(20261123)
    others = [letter for letter in "XYZ" if letter != otn[-1]]
    makers = [
        lambda: gateway.notification(otn, key=attacker_key),
        lambda: gateway.notification(
            otn, after_signing={"total_amount": f"{rng.randint(1, 499_999) / 100:.2f}"}
        ),
        lambda: gateway.notification(otn, after_signing={"out_trade_no": otn[:-1] + rng.choice(others)}),
        lambda: gateway.notification(
            otn, changes={"app_id": str(rng.randint(2021000100000000, 2021009999999999))}
        ),
        lambda: gateway.notification(
            otn, changes={"seller_id": str(rng.randint(2088000000000000, 2088999999999999))}
        ),
        # Genuinely signed, but for an amount the intent does not owe, or a trade we never opened.
        lambda: gateway.notification(otn, total_amount=f"{rng.randint(1, 499_999) / 100:.2f}"),
        lambda: gateway.notification("FC" + "".join(rng.choices("ABCDEFGH0123456789", k=22))),
        lambda: gateway.notification(otn, after_signing={"sign": rsa2_sign(attacker_key, "x")}),
        lambda: without_sign(gateway.notification(otn)) if rng.random() < 0.5 else rng.randbytes(64),
        lambda: gateway.notification(
            otn, trade_status="TRADE_CLOSED", after_signing={"trade_status": "TRADE_SUCCESS"}
        ),
    ]

    answers = [post(client, makers[index % len(makers)]()) for index in range(1000)]

    assert {(a.status_code, a.content) for a in answers} == {(200, b"failure")}
    assert money_state() == before
    assert PaymentIntent.objects.get(pk=alipay_intent.pk).status == "created"
    assert PaymentNotification.objects.filter(outcome="rejected").count() == 1000
    assert PaymentNotification.objects.exclude(outcome="rejected").count() == 0


def test_a_late_payment_is_found_by_query_and_credited_once(alipay_intent, gateway):
    gateway.pay(alipay_intent.out_trade_no)

    assert payment_intent_query(intent=alipay_intent).status == "succeeded"
    assert payment_intent_query(intent=alipay_intent).status == "succeeded"
    assert money_state()["events"].count("payment.succeeded") == 1


def test_a_refund_goes_to_alipay_and_settles_in_the_ledger(client, alipay_intent, gateway):
    gateway.pay(alipay_intent.out_trade_no)
    post(client, gateway.notification(alipay_intent.out_trade_no))

    refund = payment_refund(
        intent=alipay_intent, amount=Money(200_000), reason="客户取消", idempotency_key="refund-alipay-1"
    )
    settled = payment_refund_submit(refund=refund)

    assert settled.status == "succeeded"
    assert gateway.refunds[(alipay_intent.out_trade_no, refund.out_refund_no)] == "2000.00"
    alipay_intent.refresh_from_db()
    assert (alipay_intent.refunded_fen, alipay_intent.refunding_fen) == (200_000, 0)
    assert (
        Refund.objects.get(pk=refund.pk).provider_refund_id
        == gateway.trades[alipay_intent.out_trade_no]["trade_no"]
    )
    assert sum(LedgerEntry.objects.values_list("amount_fen", flat=True)) == 0
    assert money_state()["events"].count("payment.refunded") == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_notification_replayed_ten_times_two_at_a_time_credits_once(postgres_race, alipay_intent, gateway):
    gateway.pay(alipay_intent.out_trade_no)
    body = gateway.notification(alipay_intent.out_trade_no)

    def deliver() -> str:
        outcome = receive({}, body, provider="alipay")
        assert outcome.response_body == b"success"
        return "duplicate" if outcome.duplicate else "accepted"

    totals: Counter[str] = Counter()
    for _round in range(5):
        totals += two_at_once(deliver)

    assert totals == Counter({"accepted": 1, "duplicate": 9})
    assert LedgerEntry.objects.filter(intent=alipay_intent).count() == 2
    assert Event.objects.filter(name="payment.succeeded").count() == 1


def test_alipay_is_offered_only_once_it_is_configured(settings, gateway):
    from forecourt.payments.selectors import payment_providers_available

    settings.ALIPAY_APP_ID = ""
    assert "alipay" not in payment_providers_available()
    assert "sandbox" in payment_providers_available()
    for name, value in gateway.settings().items():
        setattr(settings, name, value)
    assert "alipay" in payment_providers_available()
    settings.PAYMENTS_SANDBOX_ENABLED = False
    assert "sandbox" not in payment_providers_available()
