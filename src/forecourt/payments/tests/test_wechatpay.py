"""WeChat Pay API v3: JSAPI, H5 and Native, notifications, refunds and queries against a local stand-in."""

from __future__ import annotations

import base64
import json
import random
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.core.errors import DomainError
from forecourt.core.models import Event
from forecourt.core.money import Money
from forecourt.payments.models import LedgerEntry, PaymentIntent, PaymentNotification, Refund
from forecourt.payments.providers import NotificationRejected, provider_get
from forecourt.payments.providers.wechatpay import WechatPayProvider
from forecourt.payments.services import (
    payment_intent_query,
    payment_refund,
    payment_refund_submit,
    payment_start,
)

from .conftest import money_state, receive, two_at_once
from .gateways import (
    WechatPayStandIn,
    private_pem,
    rsa2_verify,
    rsa_key,
    self_signed_certificate,
)

NOTIFY_URL = "/payments/wechatpay/notify"
FAIL = {"code": "FAIL", "message": "失败"}
MOMENT = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
MODES = ["public_key", "certificate"]


@pytest.fixture(scope="module")
def gateway() -> Iterator[WechatPayStandIn]:
    stand_in = WechatPayStandIn()
    yield stand_in
    stand_in.close()


@pytest.fixture(scope="module")
def attacker_key() -> rsa.RSAPrivateKey:
    return rsa_key()


def configure(settings: Any, gateway: WechatPayStandIn, mode: str = "public_key") -> WechatPayProvider:
    """Point our provider at the stand-in, verifying with its platform public key or its certificate."""
    for name, value in gateway.settings(mode=mode).items():
        setattr(settings, name, value)
    gateway.signs_with = mode
    return WechatPayProvider()


@pytest.fixture
def wechatpay(settings, gateway) -> WechatPayProvider:
    gateway.answer_key = None
    gateway.refund_status = "SUCCESS"
    return configure(settings, gateway)


_numbers = iter(range(1, 10**6))


def trade(**fields: Any) -> Any:
    """What a provider reads of an intent, without the database; a fresh out_trade_no each time."""
    values = {
        "out_trade_no": f"FCWX{next(_numbers):020d}",
        "amount_fen": 500_000,
        "currency": "CNY",
        "description": "极光 Aurora 定金",
        "payer_reference": "",
        "expires_at": None,
        "public_id": "pay_test",
    }
    return SimpleNamespace(**(values | fields))


def ordered(gateway: WechatPayStandIn, provider: WechatPayProvider, **fields: Any) -> Any:
    """A Native order placed at the stand-in."""
    intent = trade(**fields)
    provider.start(intent, return_url="/orders/FO1/", channel="native")
    return intent


# Configuration and paying -------------------------------------------------------------------------


def test_without_keys_wechatpay_is_not_configured_and_believes_nothing(settings, gateway):
    for name in ("WECHATPAY_MCH_ID", "WECHATPAY_MERCHANT_PRIVATE_KEY", "WECHATPAY_APIV3_KEY"):
        setattr(settings, name, "")
    provider = provider_get("wechatpay")
    headers, body = gateway.notification("FC1")

    assert provider.is_configured() is False
    with pytest.raises(NotificationRejected) as rejected:
        provider.verify_notification(headers=headers, body=body)
    assert rejected.value.reason == "not_configured"


@pytest.mark.parametrize("mode", MODES)
def test_native_pay_gives_the_code_url_to_show_as_a_qr_code(settings, gateway, mode):
    provider = configure(settings, gateway, mode)
    intent = trade(expires_at=MOMENT)

    start = provider.start(intent, return_url="/orders/FO1/", channel="native")

    assert start.kind == "qr" and start.qr_payload.startswith("weixin://wxpay/bizpayurl?pr=")
    method, path, order = gateway.calls[-1]
    assert (method, path) == ("POST", "/v3/pay/transactions/native")
    assert order == {
        "notify_url": "https://forecourt.example.com/payments/wechatpay/notify",
        "description": "极光 Aurora 定金",
        "out_trade_no": intent.out_trade_no,
        "amount": {"total": 500_000, "currency": "CNY"},
        "time_expire": "2026-11-23T10:00:00+08:00",
        "appid": gateway.appid,
        "mchid": gateway.mchid,
    }


def test_h5_pay_sends_the_payer_to_wechat_and_back_to_our_page(wechatpay, gateway):
    intent = trade()

    start = wechatpay.start(intent, return_url="/orders/FO1/?paid=1", channel="h5")

    assert start.kind == "redirect"
    url = urllib.parse.urlsplit(start.url)
    assert (url.scheme, url.netloc, url.path) == ("https", "wx.tenpay.com", "/cgi-bin/mmpayweb-bin/checkmweb")
    query = dict(urllib.parse.parse_qsl(url.query))
    assert query["redirect_url"] == "https://forecourt.example.com/orders/FO1/?paid=1"
    assert query["prepay_id"] == gateway.trades[intent.out_trade_no]["prepay_id"]
    assert gateway.calls[-1][2]["scene_info"] == {"payer_client_ip": "127.0.0.1", "h5_info": {"type": "Wap"}}


def test_jsapi_pay_gives_weixinjsbridge_parameters_signed_by_the_merchant(wechatpay, gateway):
    intent = trade(payer_reference="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")

    with clock.frozen_at(MOMENT):
        start = wechatpay.start(intent, return_url="/orders/FO1/", channel="jsapi")

    params = start.params
    assert start.kind == "jsapi"
    assert gateway.calls[-1][2]["payer"] == {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
    assert (params["appId"], params["timeStamp"], params["signType"]) == (
        gateway.appid,
        str(int(MOMENT.timestamp())),
        "RSA",
    )
    assert params["package"] == f"prepay_id={gateway.trades[intent.out_trade_no]['prepay_id']}"
    assert len(params["nonceStr"]) == 32
    signed = f"{params['appId']}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n"
    assert rsa2_verify(gateway.merchant_key.public_key(), signed, params["paySign"])


def test_jsapi_without_the_payers_openid_is_refused(wechatpay, gateway):
    calls = len(gateway.calls)
    with pytest.raises(DomainError) as refused:
        wechatpay.start(trade(), return_url="/orders/FO1/", channel="jsapi")
    assert (refused.value.code, refused.value.status) == ("payment_not_payable", 422)
    assert len(gateway.calls) == calls


def test_an_unknown_channel_is_refused(wechatpay):
    with pytest.raises(DomainError) as refused:
        wechatpay.start(trade(), return_url="/orders/FO1/", channel="page")
    assert (refused.value.code, refused.value.status) == ("payment_not_payable", 422)


def test_a_request_signed_with_another_merchant_key_is_refused_by_wechat(
    settings, wechatpay, gateway, attacker_key
):
    settings.WECHATPAY_MERCHANT_PRIVATE_KEY = private_pem(attacker_key)
    intent = trade()

    with pytest.raises(DomainError) as refused:
        WechatPayProvider().start(intent, return_url="/orders/FO1/", channel="native")

    assert (refused.value.code, refused.value.status) == ("payment_provider_unavailable", 503)
    assert intent.out_trade_no not in gateway.trades


def test_a_merchant_key_in_pkcs1_form_is_accepted(settings, wechatpay, gateway):
    settings.WECHATPAY_MERCHANT_PRIVATE_KEY = gateway.merchant_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()

    assert WechatPayProvider().start(trade(), return_url="/orders/FO1/", channel="native").kind == "qr"


# Notifications ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("trade_state", "status"),
    [("SUCCESS", "succeeded"), ("CLOSED", "closed"), ("PAYERROR", "failed"), ("NOTPAY", "pending")],
)
def test_a_genuine_notification_is_believed(settings, gateway, mode, trade_state, status):
    provider = configure(settings, gateway, mode)
    intent = ordered(gateway, provider)
    gateway.pay(intent.out_trade_no)
    headers, body = gateway.notification(intent.out_trade_no, trade_state=trade_state, notification_id="EV-1")

    verified = provider.verify_notification(headers=headers, body=body)

    assert (verified.notification_id, verified.out_trade_no, verified.amount_fen, verified.status) == (
        "EV-1",
        intent.out_trade_no,
        500_000,
        status,
    )
    assert verified.provider_trade_no == gateway.trades[intent.out_trade_no]["transaction_id"]
    # The payer's openid and the merchant's free text never reach the log.
    assert not {"payer", "attach"} & set(verified.raw)
    assert verified.raw["trade_state"] == trade_state and verified.raw["event_type"] == "TRANSACTION.SUCCESS"


@pytest.mark.parametrize(
    ("age", "reason"),
    [(0, None), (300, None), (-300, None), (301, "stale"), (-301, "stale"), (86_400, "stale")],
)
def test_notifications_older_or_newer_than_five_minutes_are_stale(wechatpay, gateway, age, reason):
    intent = ordered(gateway, wechatpay)
    with clock.frozen_at(MOMENT):
        headers, body = gateway.notification(intent.out_trade_no, timestamp=int(MOMENT.timestamp()) - age)
        if reason is None:
            assert wechatpay.verify_notification(headers=headers, body=body).status == "succeeded"
        else:
            with pytest.raises(NotificationRejected) as rejected:
                wechatpay.verify_notification(headers=headers, body=body)
            assert rejected.value.reason == reason


def tampered(headers: dict[str, str], body: bytes, **changes: Any) -> tuple[dict[str, str], bytes]:
    envelope = json.loads(body)
    envelope["resource"] |= changes
    return headers, json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


def forgeries(
    gateway: WechatPayStandIn, attacker_key: rsa.RSAPrivateKey, out_trade_no: str
) -> dict[str, tuple[str, tuple[dict[str, str], bytes]]]:
    """One notification per way of lying: kind → (the reason the provider must give, headers and body)."""
    genuine = gateway.notification(out_trade_no)
    other_ciphertext = gateway.notification(out_trade_no, changes={"amount": {"total": 1, "currency": "CNY"}})
    probe_headers = genuine[0] | {
        "Wechatpay-Signature": "WECHATPAY/SIGNTEST/" + genuine[0]["Wechatpay-Signature"]
    }
    return {
        "bad_signature": ("bad_signature", gateway.notification(out_trade_no, key=attacker_key)),
        "signature_probe": ("bad_signature", (probe_headers, genuine[1])),
        "unknown_serial": ("bad_signature", gateway.notification(out_trade_no, serial="PUB_KEY_ID_0000")),
        "swapped_ciphertext": (
            "bad_signature",
            tampered(*genuine, ciphertext=json.loads(other_ciphertext[1])["resource"]["ciphertext"]),
        ),
        "body_edited": ("bad_signature", (genuine[0], genuine[1].replace(b"TRANSACTION", b"TRANSACTIOn"))),
        "timestamp_edited": (
            "bad_signature",
            (genuine[0] | {"Wechatpay-Timestamp": str(int(clock.now().timestamp()) - 1)}, genuine[1]),
        ),
        "stale": ("stale", gateway.notification(out_trade_no, timestamp=int(clock.now().timestamp()) - 301)),
        "other_apiv3_key": ("decrypt_failed", gateway.notification(out_trade_no, apiv3_key="0" * 32)),
        "other_merchant": (
            "wrong_merchant",
            gateway.notification(out_trade_no, changes={"mchid": "1900000999"}),
        ),
        "other_app": (
            "wrong_app",
            gateway.notification(out_trade_no, changes={"appid": "wx0000000000000000"}),
        ),
        "amount_not_a_number": (
            "malformed",
            gateway.notification(out_trade_no, changes={"amount": {"total": "500000", "currency": "CNY"}}),
        ),
        "unknown_state": ("malformed", gateway.notification(out_trade_no, trade_state="PAID")),
        "no_headers": ("malformed", ({}, genuine[1])),
        "garbage": ("malformed", (genuine[0], b"\xff\xfe not json")),
    }


def test_each_kind_of_forged_notification_is_rejected_with_its_reason(wechatpay, gateway, attacker_key):
    intent = ordered(gateway, wechatpay)
    gateway.pay(intent.out_trade_no)
    with clock.frozen_at(MOMENT):
        for kind, (reason, (headers, body)) in forgeries(gateway, attacker_key, intent.out_trade_no).items():
            with pytest.raises(NotificationRejected) as rejected:
                wechatpay.verify_notification(headers=headers, body=body)
            assert (kind, rejected.value.reason) == (kind, reason)


def test_while_certificates_rotate_both_the_old_and_the_new_one_are_trusted(settings, gateway):
    old_key = rsa_key()
    old = self_signed_certificate(old_key, valid_days=30)
    provider = configure(settings, gateway, "certificate")
    settings.WECHATPAY_PLATFORM_CERTIFICATE = (
        gateway.certificate_pem + old.public_bytes(serialization.Encoding.PEM).decode()
    )
    provider = WechatPayProvider()
    intent = ordered(gateway, provider)  # answers signed with the newest certificate verify
    old_serial = f"{old.serial_number:X}"

    headers, body = gateway.notification(intent.out_trade_no, key=old_key, serial=old_serial)

    assert provider.verify_notification(headers=headers, body=body).out_trade_no == intent.out_trade_no


def test_acknowledgements_follow_wechat_pays_rules(wechatpay):
    assert wechatpay.acknowledge(accepted=True) == (204, b"", "application/json")
    status, body, content_type = wechatpay.acknowledge(accepted=False)
    assert (status, json.loads(body), content_type) == (400, FAIL, "application/json")


# Query and refund ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_query_reports_what_wechat_pay_knows(settings, gateway, mode):
    provider = configure(settings, gateway, mode)
    intent = trade()
    assert provider.query(intent) is None  # ORDER_NOT_EXIST

    provider.start(intent, return_url="/orders/FO1/", channel="native")
    waiting = provider.query(intent)
    assert waiting is not None
    assert (waiting.status, waiting.amount_fen, waiting.provider_trade_no) == ("pending", 500_000, "")

    paid_trade = gateway.pay(intent.out_trade_no)
    paid = provider.query(intent)
    assert paid is not None
    assert (paid.status, paid.amount_fen, paid.provider_trade_no) == (
        "succeeded",
        500_000,
        paid_trade["transaction_id"],
    )
    assert gateway.calls[-1][:2] == (
        "GET",
        f"/v3/pay/transactions/out-trade-no/{intent.out_trade_no}?mchid={gateway.mchid}",
    )


def test_answers_signed_with_another_key_are_not_believed(wechatpay, gateway, attacker_key):
    intent = ordered(gateway, wechatpay)
    gateway.pay(intent.out_trade_no)
    gateway.answer_key = attacker_key

    assert wechatpay.query(intent) is None
    result = wechatpay.refund(
        intent, out_refund_no="FR" + intent.out_trade_no[2:], amount_fen=100, reason="测试"
    )
    assert result.status == "pending"  # it may have been refunded: ask again, never assume either way


def test_refunds_are_once_per_number_and_never_beyond_the_payment(wechatpay, gateway):
    intent = ordered(gateway, wechatpay)
    gateway.pay(intent.out_trade_no)

    first = wechatpay.refund(
        intent, out_refund_no="FRWX000000000000000001", amount_fen=300_000, reason="退定金"
    )
    again = wechatpay.refund(
        intent, out_refund_no="FRWX000000000000000001", amount_fen=300_000, reason="退定金"
    )
    too_much = wechatpay.refund(
        intent, out_refund_no="FRWX000000000000000002", amount_fen=200_001, reason="x"
    )

    assert first.status == "succeeded" and first.provider_refund_id.startswith("5030")
    assert again == first
    assert (too_much.status, too_much.message) == ("failed", "NOT_ENOUGH 申请退款金额超过订单可退金额")
    assert gateway.trades[intent.out_trade_no]["refunded"] == 300_000
    request = next(call[2] for call in gateway.calls if call[1] == "/v3/refund/domestic/refunds")
    assert set(request) == {"out_refund_no", "amount", "out_trade_no", "reason"}


def test_a_refund_the_bank_has_not_confirmed_is_pending(wechatpay, gateway):
    intent = ordered(gateway, wechatpay)
    gateway.pay(intent.out_trade_no)
    gateway.refund_status = "PROCESSING"

    assert (
        wechatpay.refund(intent, out_refund_no="FRWX000000000000000003", amount_fen=1, reason="x").status
        == "pending"
    )


def test_an_unreachable_gateway_leaves_refunds_pending_and_queries_unanswered(settings, wechatpay):
    settings.WECHATPAY_BASE_URL = "http://127.0.0.1:9"
    provider = WechatPayProvider()

    assert provider.query(trade()) is None
    assert provider.refund(trade(), out_refund_no="FR1", amount_fen=1, reason="x").status == "pending"
    with pytest.raises(DomainError) as refused:
        provider.start(trade(), return_url="/orders/FO1/", channel="native")
    assert refused.value.code == "payment_provider_unavailable"


# Through the notify endpoint and the payments services --------------------------------------------


@pytest.fixture
def wechat_intent(wechatpay, gateway, create_intent) -> PaymentIntent:
    intent = create_intent(provider="wechatpay", channel="native", idempotency_key=f"wx-{random.random()}")
    assert payment_start(intent=intent, return_url="/orders/FO7K3M9Q2X4T8V/").kind == "qr"
    return intent


def post(client, headers: dict[str, str], body: bytes):
    return client.post(NOTIFY_URL, data=body, content_type="application/json", headers=headers)


def test_a_genuine_notification_replayed_ten_times_credits_once(client, wechat_intent, gateway):
    paid = gateway.pay(wechat_intent.out_trade_no)
    headers, body = gateway.notification(wechat_intent.out_trade_no)

    answers = [post(client, headers, body) for _ in range(10)]

    assert [(a.status_code, a.content) for a in answers] == [(204, b"")] * 10
    wechat_intent.refresh_from_db()
    assert (wechat_intent.status, wechat_intent.provider_trade_no) == ("succeeded", paid["transaction_id"])
    state = money_state()
    assert state["events"].count("payment.succeeded") == 1
    assert state["ledger"] == 2 and sum(LedgerEntry.objects.values_list("amount_fen", flat=True)) == 0
    outcomes = sorted(PaymentNotification.objects.values_list("outcome", flat=True))
    assert outcomes == ["accepted"] + ["duplicate"] * 9
    logged = PaymentNotification.objects.get(outcome="accepted")
    assert "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" not in logged.body + json.dumps(logged.fields)


def test_a_thousand_forged_notifications_are_answered_fail_and_change_nothing(
    client, wechat_intent, gateway, attacker_key
):
    gateway.pay(wechat_intent.out_trade_no)
    otn = wechat_intent.out_trade_no
    before = money_state()
    rng = random.Random(20261123)
    now = int(clock.now().timestamp())

    def amount() -> dict[str, Any]:
        return {"total": rng.randint(1, 499_999), "currency": "CNY"}

    makers = [
        lambda: gateway.notification(otn, key=attacker_key),
        lambda: gateway.notification(otn, timestamp=now - rng.randint(301, 10**6)),
        lambda: gateway.notification(otn, timestamp=now + rng.randint(301, 10**6)),
        lambda: gateway.notification(otn, changes={"mchid": str(rng.randint(1900000000, 1999999999))}),
        lambda: gateway.notification(otn, changes={"appid": "wx" + rng.randbytes(8).hex()}),
        lambda: gateway.notification(otn, apiv3_key=rng.randbytes(16).hex()),
        # Genuinely signed, but for an amount the intent does not owe, or a trade we never placed.
        lambda: gateway.notification(otn, changes={"amount": amount()}),
        lambda: gateway.notification("FC" + "".join(rng.choices("ABCDEFGH0123456789", k=22))),
        lambda: tampered(*gateway.notification(otn), ciphertext=base64.b64encode(rng.randbytes(48)).decode()),
        lambda: (gateway.signed_headers("{}", timestamp=str(now)), rng.randbytes(rng.randint(0, 200))),
    ]

    answers = [post(client, *makers[index % len(makers)]()) for index in range(1000)]

    assert {(a.status_code, a.headers["Content-Type"]) for a in answers} == {(400, "application/json")}
    assert all(json.loads(a.content) == FAIL for a in answers)
    assert money_state() == before
    assert PaymentIntent.objects.get(pk=wechat_intent.pk).status == "created"
    assert PaymentNotification.objects.filter(outcome="rejected").count() == 1000
    assert PaymentNotification.objects.exclude(outcome="rejected").count() == 0


def test_a_late_payment_is_found_by_query_and_credited_once(wechat_intent, gateway):
    gateway.pay(wechat_intent.out_trade_no)

    assert payment_intent_query(intent=wechat_intent).status == "succeeded"
    assert payment_intent_query(intent=wechat_intent).status == "succeeded"
    assert money_state()["events"].count("payment.succeeded") == 1


def test_a_refund_goes_to_wechat_pay_and_settles_in_the_ledger(client, wechat_intent, gateway):
    gateway.pay(wechat_intent.out_trade_no)
    assert post(client, *gateway.notification(wechat_intent.out_trade_no)).status_code == 204

    refund = payment_refund(
        intent=wechat_intent, amount=Money(200_000), reason="客户取消", idempotency_key="refund-wechat-1"
    )
    settled = payment_refund_submit(refund=refund)

    assert settled.status == "succeeded"
    assert gateway.refunds[refund.out_refund_no]["amount"]["refund"] == 200_000
    wechat_intent.refresh_from_db()
    assert (wechat_intent.refunded_fen, wechat_intent.refunding_fen) == (200_000, 0)
    assert (
        Refund.objects.get(pk=refund.pk).provider_refund_id
        == gateway.refunds[refund.out_refund_no]["refund_id"]
    )
    assert sum(LedgerEntry.objects.values_list("amount_fen", flat=True)) == 0
    assert money_state()["events"].count("payment.refunded") == 1


def test_a_stale_genuine_notification_is_logged_as_stale(client, wechat_intent, gateway):
    gateway.pay(wechat_intent.out_trade_no)
    headers, body = gateway.notification(
        wechat_intent.out_trade_no, timestamp=int((clock.now() - timedelta(minutes=6)).timestamp())
    )

    answer = post(client, headers, body)

    assert (answer.status_code, json.loads(answer.content)) == (400, FAIL)
    assert list(PaymentNotification.objects.values_list("outcome", "reason")) == [("rejected", "stale")]
    assert money_state()["events"] == ["payment.created"]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_notification_replayed_ten_times_two_at_a_time_credits_once(postgres_race, wechat_intent, gateway):
    gateway.pay(wechat_intent.out_trade_no)
    headers, body = gateway.notification(wechat_intent.out_trade_no)

    def deliver() -> str:
        outcome = receive(headers, body, provider="wechatpay")
        assert (outcome.response_status, outcome.response_body) == (204, b"")
        return "duplicate" if outcome.duplicate else "accepted"

    totals: Counter[str] = Counter()
    for _round in range(5):
        totals += two_at_once(deliver)

    assert totals == Counter({"accepted": 1, "duplicate": 9})
    assert LedgerEntry.objects.filter(intent=wechat_intent).count() == 2
    assert Event.objects.filter(name="payment.succeeded").count() == 1
