"""Alipay (支付宝): page pay and mobile-web pay through ``python-alipay-sdk``, RSA2 signatures both ways.

Wire format, as Alipay's open platform defines it:

- Paying: the payer's browser goes to ``<gateway>?<signed query>`` (``alipay.trade.page.pay`` on a
  computer, ``alipay.trade.wap.pay`` on a phone). The query carries the public parameters (app_id,
  method, charset, sign_type=RSA2, timestamp in Beijing time, version, notify_url, return_url) and
  ``biz_content`` (JSON), signed with the app's private key over the sorted ``k=v&…`` string.
- Server calls (``alipay.trade.query``, ``alipay.trade.refund``, ``alipay.trade.fastpay.refund.query``)
  go to the same gateway; the answer is JSON ``{"<method>_response": {...}, "sign": "..."}`` where
  ``sign`` is Alipay's RSA2 signature over the exact text of the ``<method>_response`` object.
- The asynchronous notification (``POST /payments/alipay/notify``, form-encoded UTF-8) is signed by
  Alipay over every parameter except ``sign`` and ``sign_type``, sorted, URL-decoded. It is believed
  only when that signature verifies with Alipay's public key *and* it names our app id and our seller
  id; the answer is exactly ``success`` (Alipay stops retrying) or ``failure``.

Amounts cross the wire as yuan strings ("12.30"); they are converted to fen with integers and
``Decimal`` only, never floats.
"""

from __future__ import annotations

import base64
import functools
import logging
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urljoin, urlsplit

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from alipay.utils import AliPayConfig
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.logging import log_context
from forecourt.payments.errors import PaymentErrorCode
from forecourt.payments.providers.base import (
    NotificationRejected,
    PaymentStart,
    RefundResult,
    VerifiedNotification,
)

if TYPE_CHECKING:
    from forecourt.payments.models import PaymentIntent

logger = logging.getLogger(__name__)

NOTIFY_PATH = "/payments/alipay/notify"
# channel → (API method, product code) for the two ways a payer's browser pays.
PAY_METHODS = {
    "page": ("alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY"),
    "wap": ("alipay.trade.wap.pay", "QUICK_WAP_PAY"),
}
TRADE_STATUSES = {
    "TRADE_SUCCESS": "succeeded",
    "TRADE_FINISHED": "succeeded",  # paid, and past the refund period
    "TRADE_CLOSED": "closed",  # unpaid and timed out, or fully refunded
    "WAIT_BUYER_PAY": "pending",
}
# Fields kept for the notification log: identities, amounts, states and times, never the buyer's
# account (buyer_logon_id is a masked phone or e-mail) nor free text the payer may have typed.
LOGGED_FIELDS = (
    "notify_id", "notify_time", "notify_type", "app_id", "seller_id", "out_trade_no", "trade_no",
    "trade_status", "total_amount", "receipt_amount", "buyer_pay_amount", "refund_fee", "out_biz_no",
    "gmt_create", "gmt_payment", "gmt_refund", "gmt_close",
)  # fmt: skip
SUCCESS_CODE = "10000"
# Alipay's "service busy, outcome unknown" answer: the call may be repeated with the same numbers.
UNKNOWN_OUTCOME_CODE = "20000"
TRADE_NOT_FOUND = "ACQ.TRADE_NOT_EXIST"
_MAX_BODY = 16 * 1024
_YUAN = re.compile(r"(?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,2})?")


def yuan_from_fen(amount_fen: int) -> str:
    """12300 → "123.00": Alipay's two-decimal yuan string, by integer arithmetic."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen < 0:
        raise ValueError(f"not an amount in fen: {amount_fen!r}")
    return f"{amount_fen // 100}.{amount_fen % 100:02d}"


def fen_from_yuan(text: str) -> int:
    """ "123.4" → 12340 exactly; anything but a plain non-negative yuan amount raises ValueError."""
    if not isinstance(text, str) or not _YUAN.fullmatch(text):
        raise ValueError(f"not a yuan amount: {text!r}")
    try:
        fen = Decimal(text) * 100
    except InvalidOperation:
        raise ValueError(f"not a yuan amount: {text!r}") from None
    if fen != fen.to_integral_value():
        raise ValueError(f"more than two decimals: {text!r}")
    return int(fen)


def _pem(text: str, *, private: bool) -> str:
    """Any key text the settings accept (PEM, or Alipay's bare base64 DER) as PEM the SDK can read."""
    data = text.strip().encode("ascii")
    try:
        if not data.startswith(b"-----BEGIN"):
            der = base64.b64decode(b"".join(data.split()), validate=True)
            key: Any = (
                serialization.load_der_private_key(der, password=None)
                if private
                else serialization.load_der_public_key(der)
            )
        elif private:
            key = serialization.load_pem_private_key(data, password=None)
        else:
            key = serialization.load_pem_public_key(data)
    except ValueError as error:
        kind = "app private key" if private else "Alipay public key"
        raise ImproperlyConfigured(f"The {kind} cannot be read: {error}") from None
    if private:
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


class _GatewayAliPay(AliPay):
    """The SDK's client, sent to the configured gateway (the SDK itself knows only production and its
    sandbox); a deployment behind a proxy, and the tests' stand-in, name their own URL."""

    def __init__(self, *, gateway_url: str, timeout: int, **kwargs: Any) -> None:
        super().__init__(config=AliPayConfig(timeout=timeout), **kwargs)
        self._gateway = gateway_url


@functools.lru_cache(maxsize=8)
def _client(app_id: str, private_key: str, public_key: str, gateway_url: str, timeout: int) -> AliPay:
    # Parsing RSA keys is the slow part of building a client; providers are built per request.
    return _GatewayAliPay(
        appid=app_id,
        app_private_key_string=_pem(private_key, private=True),
        alipay_public_key_string=_pem(public_key, private=False),
        sign_type="RSA2",
        gateway_url=gateway_url,
        timeout=timeout,
    )


def _timestamp() -> str:
    # Alipay reads the request timestamp as Beijing time; the SDK would use the server's local time.
    return clock.local_now().strftime("%Y-%m-%d %H:%M:%S")


class AlipayProvider:
    name = "alipay"

    def __init__(self) -> None:
        self.app_id = settings.ALIPAY_APP_ID
        self.seller_id = settings.ALIPAY_SELLER_ID
        self.gateway_url = settings.ALIPAY_GATEWAY_URL
        self.site_url = settings.PAYMENTS_PUBLIC_URL.rstrip("/")
        self.notify_url = settings.ALIPAY_NOTIFY_URL or (self.site_url + NOTIFY_PATH if self.site_url else "")
        self._private_key = settings.ALIPAY_APP_PRIVATE_KEY
        self._public_key = settings.ALIPAY_PUBLIC_KEY
        self._timeout = settings.PAYMENT_GATEWAY_TIMEOUT_SECONDS

    def is_configured(self) -> bool:
        needed = (self.app_id, self.seller_id, self._private_key, self._public_key, self.notify_url)
        return all(needed) and bool(self.gateway_url)

    @property
    def client(self) -> AliPay:
        if not self.is_configured():
            raise ImproperlyConfigured("Alipay is not configured (FORECOURT_ALIPAY_* settings)")
        return _client(self.app_id, self._private_key, self._public_key, self.gateway_url, self._timeout)

    # Paying ---------------------------------------------------------------------------------------

    def start(self, intent: PaymentIntent, *, return_url: str, channel: str) -> PaymentStart:
        if channel not in PAY_METHODS:
            raise DomainError(
                PaymentErrorCode.NOT_PAYABLE,
                _("Alipay cannot take this payment on channel %(channel)s.") % {"channel": channel},
                status=422,
                details={"field": "channel"},
            )
        if not self.is_configured():
            raise _unavailable()
        if intent.currency != "CNY":
            raise DomainError(
                PaymentErrorCode.NOT_PAYABLE, _("Alipay takes payments in CNY only."), status=422
            )
        method, product_code = PAY_METHODS[channel]
        return_url = self._absolute(return_url)
        biz_content: dict[str, Any] = {
            "out_trade_no": intent.out_trade_no,
            "total_amount": yuan_from_fen(intent.amount_fen),
            # Alipay refuses "/", "=" and "&" in a subject.
            "subject": re.sub(r"[/=&]", " ", intent.description or intent.out_trade_no)[:256],
            "product_code": product_code,
        }
        expires_at = getattr(intent, "expires_at", None)
        if expires_at is not None:
            biz_content["time_expire"] = expires_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
        if channel == "wap":
            # Where the payer lands when they leave Alipay's mobile cashier without paying.
            biz_content["quit_url"] = return_url
        client = self.client
        data = client.build_body(
            method,
            biz_content,
            return_url=return_url,
            notify_url=self.notify_url,
            timestamp=_timestamp(),
        )
        return PaymentStart(kind="redirect", url=f"{self.gateway_url}?{client.sign_data(data)}")

    def _absolute(self, return_url: str) -> str:
        """The gateway sends the payer's browser back here, so a path on this site must become a URL."""
        if re.match(r"https?://", return_url):
            return return_url
        origin = self.site_url or "{0.scheme}://{0.netloc}".format(urlsplit(self.notify_url))
        return urljoin(origin + "/", return_url)

    # Notifications --------------------------------------------------------------------------------

    def verify_notification(self, *, headers: Mapping[str, str], body: bytes) -> VerifiedNotification:
        if not self.is_configured():
            raise NotificationRejected("not_configured")
        fields = _form_fields(body)
        signature = fields.pop("sign", "")
        if not signature or fields.get("sign_type") != "RSA2":
            raise NotificationRejected("bad_signature", "unsigned, or not signed with RSA2")
        client = self.client  # outside the try: a key that cannot be read is an error, not a forgery
        try:
            # The SDK removes sign_type from what it verifies, as Alipay's notification rule says.
            verified = client.verify(dict(fields), signature)
        except Exception:  # a signature that is not even base64 is simply a bad one
            verified = False
        if not verified:
            raise NotificationRejected("bad_signature")
        if fields.get("app_id") != self.app_id:
            raise NotificationRejected("wrong_app", "notification for another app id")
        if fields.get("seller_id") != self.seller_id:
            raise NotificationRejected("wrong_seller", "notification for another seller")
        return _verified(fields, notification_id=fields.get("notify_id", ""))

    def acknowledge(self, *, accepted: bool) -> tuple[int, bytes, str]:
        # Alipay retries (for about a day) until it reads exactly these seven characters.
        return 200, (b"success" if accepted else b"failure"), "text/plain"

    # Server calls ---------------------------------------------------------------------------------

    def _call(self, method: str, biz_content: dict[str, Any]) -> dict[str, Any] | None:
        """The verified ``<method>_response`` object, or None when no believable answer came back."""
        client = self.client
        data = client.build_body(method, biz_content, timestamp=_timestamp())
        response_type = method.replace(".", "_") + "_response"
        try:
            response = client.verified_sync_response(data, response_type)
        except AliPayValidationError:
            logger.warning(
                "alipay answer with a bad signature", extra=log_context(provider=self.name, method=method)
            )
            return None
        except AliPayException as error:
            # An unsigned answer: Alipay refused the request itself (bad app id, bad signature of ours).
            logger.warning(
                "alipay refused the request",
                extra=log_context(provider=self.name, method=method, code=getattr(error, "code", "")),
            )
            return None
        except (OSError, ValueError) as error:  # unreachable, timed out, or not JSON
            logger.warning(
                "alipay unreachable",
                extra=log_context(provider=self.name, method=method, error=type(error).__name__),
            )
            return None
        return response if isinstance(response, dict) else None

    def refund(
        self, intent: PaymentIntent, *, out_refund_no: str, amount_fen: int, reason: str
    ) -> RefundResult:
        response = self._call(
            "alipay.trade.refund",
            {
                "out_trade_no": intent.out_trade_no,
                "refund_amount": yuan_from_fen(amount_fen),
                # Makes a partial refund repeatable: Alipay refunds once per out_request_no.
                "out_request_no": out_refund_no,
                "refund_reason": reason[:256],
            },
        )
        if response is None:
            return RefundResult(status="pending", message="no verified answer from Alipay")
        code = str(response.get("code", ""))
        if code == UNKNOWN_OUTCOME_CODE:
            return RefundResult(status="pending", message=_brief(response))
        if code != SUCCESS_CODE:
            return RefundResult(status="failed", message=_brief(response))
        if response.get("out_trade_no") != intent.out_trade_no:
            logger.warning("alipay refund answer names another trade", extra=log_context(provider=self.name))
            return RefundResult(status="pending", message="answer for another trade")
        trade_no = str(response.get("trade_no", ""))
        if response.get("fund_change") == "Y":
            return RefundResult(status="succeeded", provider_refund_id=trade_no)
        # fund_change "N" does not mean failure (a repeated out_request_no answers it too): ask.
        return self._refund_query(intent, out_refund_no=out_refund_no, trade_no=trade_no)

    def _refund_query(self, intent: PaymentIntent, *, out_refund_no: str, trade_no: str) -> RefundResult:
        response = self._call(
            "alipay.trade.fastpay.refund.query",
            {"out_trade_no": intent.out_trade_no, "out_request_no": out_refund_no},
        )
        if (
            response is not None
            and str(response.get("code", "")) == SUCCESS_CODE
            and response.get("out_request_no") == out_refund_no
            and response.get("refund_status") == "REFUND_SUCCESS"
        ):
            return RefundResult(status="succeeded", provider_refund_id=trade_no)
        return RefundResult(status="pending", message="refund not confirmed yet")

    def query(self, intent: PaymentIntent) -> VerifiedNotification | None:
        response = self._call("alipay.trade.query", {"out_trade_no": intent.out_trade_no})
        if response is None or str(response.get("code", "")) != SUCCESS_CODE:
            return None
        if response.get("out_trade_no") != intent.out_trade_no:
            logger.warning("alipay query answer names another trade", extra=log_context(provider=self.name))
            return None
        fields = {key: str(value) for key, value in response.items() if isinstance(value, str | int)}
        try:
            notification = _verified(
                fields,
                notification_id=f"query:{fields.get('trade_no', '')}:{fields.get('trade_status', '')}",
            )
        except NotificationRejected:
            return None
        return notification


def _unavailable() -> DomainError:
    return DomainError(
        PaymentErrorCode.PROVIDER_UNAVAILABLE, _("Alipay is not available at the moment."), status=503
    )


def _brief(response: Mapping[str, Any]) -> str:
    parts = [str(response.get(key, "")) for key in ("code", "sub_code", "sub_msg")]
    return " ".join(part for part in parts if part)[:200]


def _form_fields(body: bytes) -> dict[str, str]:
    """The notification's parameters; anything that is not plain UTF-8 form data is "malformed"."""
    if len(body) > _MAX_BODY:
        raise NotificationRejected("malformed", "body too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        raise NotificationRejected("malformed", "not form-encoded UTF-8") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        # A repeated parameter could make what we verify differ from what we read.
        raise NotificationRejected("malformed", "repeated parameter")
    return fields


def _verified(fields: Mapping[str, str], *, notification_id: str) -> VerifiedNotification:
    """Read the trade out of verified fields; missing or unreadable values are "malformed"."""
    out_trade_no = fields.get("out_trade_no", "")
    trade_no = fields.get("trade_no", "")
    status = TRADE_STATUSES.get(fields.get("trade_status", ""))
    if not notification_id or not out_trade_no or not trade_no or status is None:
        raise NotificationRejected("malformed", "notify_id, out_trade_no, trade_no or trade_status missing")
    if len(notification_id) > 128 or len(out_trade_no) > 64 or len(trade_no) > 64:
        raise NotificationRejected("malformed", "identifier too long")
    try:
        amount_fen = fen_from_yuan(fields.get("total_amount", ""))
    except ValueError:
        raise NotificationRejected("malformed", "total_amount missing or invalid") from None
    return VerifiedNotification(
        notification_id=notification_id,
        out_trade_no=out_trade_no,
        provider_trade_no=trade_no,
        amount_fen=amount_fen,
        status=status,
        raw={key: fields[key] for key in LOGGED_FIELDS if key in fields},
    )
