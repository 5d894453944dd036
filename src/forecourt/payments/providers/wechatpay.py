"""WeChat Pay API v3 (微信支付): JSAPI, H5 and Native through ``wechatpayv3``.

Wire format, as WeChat Pay's API v3 defines it:

- Every request carries ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",
  signature="…",timestamp="…",serial_no="…"``, signed with the merchant's private key (PKCS#8) over
  ``METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n``. Bodies are JSON, amounts integer fen.
- Every answer (2xx) and every notification is signed by WeChat Pay over ``TIMESTAMP\\nNONCE\\nBODY\\n``
  (headers ``Wechatpay-Timestamp``, ``-Nonce``, ``-Signature``, ``-Serial``, ``-Signature-Type``) with
  the platform certificate's key, or with the platform public key whose id is the serial
  (``PUB_KEY_ID_…``).
- A payment notification (``POST /payments/wechatpay/notify``) is JSON whose ``resource`` is the
  transaction encrypted with AEAD_AES_256_GCM under the merchant's APIv3 key. It is believed only when
  the signature verifies, it is at most five minutes old (the SDK does not check that), the resource
  decrypts, and it names our mchid and appid. The answer is 204 with no body when accepted, otherwise a
  4xx with ``{"code": "FAIL", "message": …}`` so WeChat Pay retries.

The SDK is used for requests (it signs them and verifies the answers) and for its signature and
AES-GCM primitives; notifications are checked here because the SDK would fetch certificates from the
network for an unknown serial (an attacker's choice) and ignores the timestamp.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.utils import aes_decrypt, rsa_verify

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.logging import log_context
from forecourt.core.middleware import current_ip
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

NOTIFY_PATH = "/payments/wechatpay/notify"
PAY_TYPES = {"jsapi": WeChatPayType.JSAPI, "h5": WeChatPayType.H5, "native": WeChatPayType.NATIVE}
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
# A notification signed longer ago than this (or this far ahead) is refused: a captured genuine one
# cannot be replayed later, and WeChat Pay signs each retry afresh.
MAX_AGE_SECONDS = 5 * 60
TRADE_STATES = {
    "SUCCESS": "succeeded",
    "REFUND": "succeeded",  # paid, then (part) refunded: the payment itself happened
    "NOTPAY": "pending",
    "USERPAYING": "pending",
    "CLOSED": "closed",
    "REVOKED": "closed",
    "PAYERROR": "failed",
}
REFUND_STATUSES = {"SUCCESS": "succeeded", "PROCESSING": "pending", "CLOSED": "failed", "ABNORMAL": "failed"}
# Answers that say "not done, try again later" rather than "refused".
RETRYABLE_CODES = {"SYSTEM_ERROR", "FREQUENCY_LIMITED", "BANK_ERROR"}
# Fields of the decrypted transaction kept for the notification log; never the payer's openid or the
# merchant's free-text attach.
LOGGED_FIELDS = (
    "mchid", "appid", "out_trade_no", "transaction_id", "trade_type", "trade_state", "bank_type",
    "success_time",
)  # fmt: skip
_MAX_BODY = 16 * 1024


def _serial_hex(certificate: x509.Certificate) -> str:
    """The certificate serial as WeChat Pay writes it: upper-case hex of its whole bytes."""
    number = certificate.serial_number
    return number.to_bytes((number.bit_length() + 7) // 8 or 1, "big").hex().upper()


def _public_pem(key: Any) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@functools.lru_cache(maxsize=8)
def _platform_keys(certificates_pem: str, public_key_pem: str, public_key_id: str) -> dict[str, Any]:
    """Serial (upper case) → verifying key, for every platform certificate and the platform public key."""
    keys: dict[str, Any] = {}
    try:
        if certificates_pem:
            for certificate in x509.load_pem_x509_certificates(certificates_pem.encode("ascii")):
                keys[_serial_hex(certificate)] = certificate.public_key()
        if public_key_pem:
            keys[public_key_id.upper()] = serialization.load_pem_public_key(
                _as_pem(public_key_pem, "PUBLIC KEY")
            )
    except ValueError as error:
        raise ImproperlyConfigured(
            f"The WeChat Pay platform certificate or key cannot be read: {error}"
        ) from None
    return keys


def _as_pem(text: str, label: str) -> bytes:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        return text.encode("ascii")
    compact = "".join(text.split())  # bare base64, as a console shows a key
    body = "\n".join(compact[start : start + 64] for start in range(0, len(compact), 64))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n".encode("ascii")


@functools.lru_cache(maxsize=8)
def _client(
    mchid: str,
    appid: str,
    private_key: str,
    serial_no: str,
    apiv3_key: str,
    sdk_public_key: str,
    sdk_public_key_id: str,
    base_url: str,
    timeout: int,
) -> WeChatPay:
    try:
        key = serialization.load_pem_private_key(_as_pem(private_key, "PRIVATE KEY"), password=None)
    except ValueError as error:
        raise ImproperlyConfigured(f"The WeChat Pay merchant private key cannot be read: {error}") from None
    # The SDK reads PKCS#8 only; re-encoding also accepts a PKCS#1 key a merchant may have converted.
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    # Given a public key and its id the SDK verifies answers offline; given neither it would download
    # platform certificates from the production gateway while being built. A configured certificate is
    # therefore handed over as its public key, with its serial as the id.
    client = WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE,
        mchid=mchid,
        private_key=pkcs8,
        cert_serial_no=serial_no,
        appid=appid,
        apiv3_key=apiv3_key,
        timeout=(5, timeout),
        public_key=sdk_public_key,
        public_key_id=sdk_public_key_id,
    )
    # The SDK hard-codes the production gateway; a proxy deployment and the tests' stand-in name theirs.
    client._core._gate_way = base_url.rstrip("/")
    return client


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if str(k).lower() == lowered), "")
    return str(value or "").strip()


class WechatPayProvider:
    name = "wechatpay"

    def __init__(self) -> None:
        self.mchid = settings.WECHATPAY_MCH_ID
        self.appid = settings.WECHATPAY_APP_ID
        self.base_url = settings.WECHATPAY_BASE_URL
        self.site_url = settings.PAYMENTS_PUBLIC_URL.rstrip("/")
        self.notify_url = settings.WECHATPAY_NOTIFY_URL or (
            self.site_url + NOTIFY_PATH if self.site_url else ""
        )
        self._private_key = settings.WECHATPAY_MERCHANT_PRIVATE_KEY
        self._serial_no = settings.WECHATPAY_MERCHANT_SERIAL_NO
        self._apiv3_key = settings.WECHATPAY_APIV3_KEY
        self._certificates = settings.WECHATPAY_PLATFORM_CERTIFICATE
        self._public_key = settings.WECHATPAY_PLATFORM_PUBLIC_KEY
        self._public_key_id = settings.WECHATPAY_PLATFORM_PUBLIC_KEY_ID
        self._timeout = settings.PAYMENT_GATEWAY_TIMEOUT_SECONDS

    def is_configured(self) -> bool:
        verifier = self._certificates or (self._public_key and self._public_key_id)
        return bool(
            self.mchid
            and self.appid
            and self._private_key
            and self._serial_no
            and len(self._apiv3_key.encode()) == 32
            and verifier
            and self.base_url
            and self.notify_url
        )

    @property
    def platform_keys(self) -> dict[str, Any]:
        return _platform_keys(self._certificates, self._public_key, self._public_key_id)

    @property
    def client(self) -> WeChatPay:
        if not self.is_configured():
            raise ImproperlyConfigured("WeChat Pay is not configured (FORECOURT_WECHATPAY_* settings)")
        if self._public_key:
            key_pem = _as_pem(self._public_key, "PUBLIC KEY").decode()
            key_id = self._public_key_id
        else:
            # Several certificates overlap while WeChat Pay rotates them: answers come from the newest.
            certificates = x509.load_pem_x509_certificates(self._certificates.encode("ascii"))
            newest = max(certificates, key=lambda certificate: certificate.not_valid_after_utc)
            key_pem, key_id = _public_pem(newest.public_key()), _serial_hex(newest)
        return _client(
            self.mchid,
            self.appid,
            self._private_key,
            self._serial_no,
            self._apiv3_key,
            key_pem,
            key_id,
            self.base_url,
            self._timeout,
        )

    # Paying ---------------------------------------------------------------------------------------

    def start(self, intent: PaymentIntent, *, return_url: str, channel: str) -> PaymentStart:
        pay_type = PAY_TYPES.get(channel)
        if pay_type is None:
            raise DomainError(
                PaymentErrorCode.NOT_PAYABLE,
                _("WeChat Pay cannot take this payment on channel %(channel)s.") % {"channel": channel},
                status=422,
                details={"field": "channel"},
            )
        if not self.is_configured():
            raise _unavailable()
        if intent.currency != "CNY":
            raise DomainError(
                PaymentErrorCode.NOT_PAYABLE, _("WeChat Pay takes payments in CNY only."), status=422
            )
        openid = getattr(intent, "payer_reference", "") or ""
        if pay_type == WeChatPayType.JSAPI and not openid:
            raise DomainError(
                PaymentErrorCode.NOT_PAYABLE,
                _("Open this page inside WeChat to pay with WeChat Pay."),
                status=422,
                details={"field": "payer_reference"},
            )
        arguments: dict[str, Any] = {
            "description": (intent.description or intent.out_trade_no)[:127],
            "out_trade_no": intent.out_trade_no,
            "amount": {"total": intent.amount_fen, "currency": "CNY"},
            "notify_url": self.notify_url,
            "pay_type": pay_type,
        }
        expires_at = getattr(intent, "expires_at", None)
        if expires_at is not None:
            arguments["time_expire"] = expires_at.astimezone(clock.SHANGHAI).isoformat(timespec="seconds")
        if pay_type == WeChatPayType.JSAPI:
            arguments["payer"] = {"openid": openid}
        elif pay_type == WeChatPayType.H5:
            # WeChat Pay compares this with the address the payer's phone opens the H5 page from.
            arguments["scene_info"] = {
                "payer_client_ip": current_ip() or "127.0.0.1",
                "h5_info": {"type": "Wap"},
            }
        answer = self._request("pay", lambda client: client.pay(**arguments), intent=intent)
        if pay_type == WeChatPayType.NATIVE and isinstance(answer.get("code_url"), str):
            return PaymentStart(kind="qr", qr_payload=answer["code_url"])
        if pay_type == WeChatPayType.H5 and isinstance(answer.get("h5_url"), str):
            separator = "&" if "?" in answer["h5_url"] else "?"
            back = quote(self._absolute(return_url), safe="")
            url = f"{answer['h5_url']}{separator}redirect_url={back}"
            return PaymentStart(kind="redirect", url=url)
        if pay_type == WeChatPayType.JSAPI and isinstance(answer.get("prepay_id"), str):
            return PaymentStart(kind="jsapi", params=self._bridge_params(answer["prepay_id"]))
        logger.warning("wechatpay answer without a payment link", extra=log_context(provider=self.name))
        raise _unavailable()

    def _bridge_params(self, prepay_id: str) -> dict[str, str]:
        """The arguments of WeixinJSBridge.invoke("getBrandWCPayRequest", …), signed by the merchant."""
        timestamp = str(int(clock.now().timestamp()))
        nonce = secrets.token_hex(16)
        package = f"prepay_id={prepay_id}"
        pay_sign = self.client.sign([self.appid, timestamp, nonce, package])
        return {
            "appId": self.appid,
            "timeStamp": timestamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": pay_sign,
        }

    def _absolute(self, return_url: str) -> str:
        """The gateway sends the payer's browser back here, so a path on this site must become a URL."""
        if re.match(r"https?://", return_url):
            return return_url
        origin = self.site_url or "{0.scheme}://{0.netloc}".format(urlsplit(self.notify_url))
        return urljoin(origin + "/", return_url)

    def _request(self, what: str, call: Any, *, intent: PaymentIntent) -> dict[str, Any]:
        """A signed call whose answer verified, as JSON; any other outcome is "provider unavailable"."""
        status, answer = self._send(what, call)
        if status is None or not 200 <= status < 300 or not isinstance(answer, dict):
            logger.warning(
                "wechatpay refused or failed",
                extra=log_context(
                    provider=self.name, call=what, status=status, out_trade_no=intent.out_trade_no,
                    code=answer.get("code", "") if isinstance(answer, dict) else "",
                ),
            )  # fmt: skip
            raise _unavailable()
        return answer

    def _send(self, what: str, call: Any) -> tuple[int | None, Any]:
        """(HTTP status, parsed JSON) of a call; (None, None) when unreachable or the answer's signature
        did not verify (the SDK raises a bare Exception for that)."""
        try:
            status, text = call(self.client)
        except ImproperlyConfigured:
            raise
        except Exception as error:
            logger.warning(
                "wechatpay unreachable or unverified answer",
                extra=log_context(provider=self.name, call=what, error=type(error).__name__),
            )
            return None, None
        try:
            return status, json.loads(text) if text else {}
        except (TypeError, ValueError):
            return status, None

    # Notifications --------------------------------------------------------------------------------

    def verify_notification(self, *, headers: Mapping[str, str], body: bytes) -> VerifiedNotification:
        if not self.is_configured():
            raise NotificationRejected("not_configured")
        timestamp = _header(headers, "Wechatpay-Timestamp")
        nonce = _header(headers, "Wechatpay-Nonce")
        signature = _header(headers, "Wechatpay-Signature")
        serial = _header(headers, "Wechatpay-Serial")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            raise NotificationRejected("malformed", "Wechatpay-Timestamp missing or invalid")
        if not (nonce and signature and serial) or len(body) > _MAX_BODY:
            raise NotificationRejected("malformed", "signature headers missing, or body too large")
        # The timestamp is part of what is signed, so this cheap check cannot be dodged by editing it.
        age = clock.now().timestamp() - int(timestamp)
        if abs(age) > MAX_AGE_SECONDS:
            raise NotificationRejected("stale", f"signed {int(age)} s ago")
        if _header(headers, "Wechatpay-Signature-Type") not in ("", SIGNATURE_TYPE):
            raise NotificationRejected("bad_signature", "unsupported signature type")
        key = self.platform_keys.get(serial.upper())
        if key is None:
            raise NotificationRejected("bad_signature", "unknown platform serial")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise NotificationRejected("malformed", "body is not UTF-8") from None
        if not rsa_verify(timestamp, nonce, text, signature, key):
            raise NotificationRejected("bad_signature")
        envelope = _json_object(text)
        resource = envelope.get("resource")
        notification_id = envelope.get("id")
        if (
            not isinstance(resource, dict)
            or envelope.get("resource_type") != "encrypt-resource"
            or resource.get("algorithm") != "AEAD_AES_256_GCM"
            or resource.get("original_type", "transaction") != "transaction"
            or not isinstance(notification_id, str)
            or not 0 < len(notification_id) <= 128
        ):
            raise NotificationRejected("malformed", "not an encrypted transaction notification")
        nonce_text, ciphertext, associated = (
            resource.get("nonce"), resource.get("ciphertext"), resource.get("associated_data", "")
        )  # fmt: skip
        if not all(isinstance(value, str) for value in (nonce_text, ciphertext, associated)):
            raise NotificationRejected("malformed", "resource fields are not text")
        try:
            plain = aes_decrypt(nonce_text, ciphertext, associated or "", self._apiv3_key)
        except ValueError:  # not base64, or a nonce AES-GCM cannot take
            plain = None
        if plain is None:
            raise NotificationRejected("decrypt_failed")
        transaction = _json_object(plain, reason="decrypt_failed")
        self._check_identity(transaction)
        return _verified(transaction, notification_id=notification_id, envelope=envelope)

    def _check_identity(self, transaction: Mapping[str, Any]) -> None:
        if transaction.get("mchid") != self.mchid:
            raise NotificationRejected("wrong_merchant", "transaction of another merchant")
        if transaction.get("appid") != self.appid:
            raise NotificationRejected("wrong_app", "transaction of another app id")

    def acknowledge(self, *, accepted: bool) -> tuple[int, bytes, str]:
        if accepted:
            return 204, b"", "application/json"
        body = json.dumps({"code": "FAIL", "message": "失败"}, ensure_ascii=False).encode()
        return 400, body, "application/json"

    # Server calls ---------------------------------------------------------------------------------

    def refund(
        self, intent: PaymentIntent, *, out_refund_no: str, amount_fen: int, reason: str
    ) -> RefundResult:
        status, answer = self._send(
            "refund",
            lambda client: client.refund(
                out_refund_no=out_refund_no,
                amount={"refund": amount_fen, "total": intent.amount_fen, "currency": "CNY"},
                out_trade_no=intent.out_trade_no,
                reason=reason[:80] or None,
            ),
        )
        if status is None or not isinstance(answer, dict):
            return RefundResult(status="pending", message="no verified answer from WeChat Pay")
        if not 200 <= status < 300:
            code = str(answer.get("code", ""))
            message = f"{code} {answer.get('message', '')}".strip()[:200]
            if status >= 500 or code in RETRYABLE_CODES:
                return RefundResult(status="pending", message=message)
            return RefundResult(status="failed", message=message)
        if answer.get("out_refund_no") != out_refund_no or answer.get("out_trade_no") != intent.out_trade_no:
            logger.warning(
                "wechatpay refund answer names another refund", extra=log_context(provider=self.name)
            )
            return RefundResult(status="pending", message="answer for another refund")
        result = REFUND_STATUSES.get(str(answer.get("status", "")), "pending")
        return RefundResult(
            status=result,
            provider_refund_id=str(answer.get("refund_id", "")),
            message=str(answer.get("status")),
        )

    def query(self, intent: PaymentIntent) -> VerifiedNotification | None:
        status, answer = self._send("query", lambda client: client.query(out_trade_no=intent.out_trade_no))
        if status is None or not 200 <= status < 300 or not isinstance(answer, dict):
            return None  # ORDER_NOT_EXIST (404), refused, unreachable or unverified: nothing to believe
        try:
            self._check_identity(answer)
            if answer.get("out_trade_no") != intent.out_trade_no:
                raise NotificationRejected("malformed", "answer for another trade")
            state = str(answer.get("trade_state", ""))
            reference = answer.get("transaction_id") or intent.out_trade_no
            return _verified(answer, notification_id=f"query:{reference}:{state}", envelope={})
        except NotificationRejected as rejection:
            logger.warning(
                "wechatpay query answer not believed",
                extra=log_context(provider=self.name, reason=rejection.reason),
            )
            return None


def _unavailable() -> DomainError:
    return DomainError(
        PaymentErrorCode.PROVIDER_UNAVAILABLE, _("WeChat Pay is not available at the moment."), status=503
    )


def _json_object(text: str, *, reason: str = "malformed") -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise NotificationRejected(reason, "not JSON") from None
    if not isinstance(value, dict):
        raise NotificationRejected(reason, "not a JSON object")
    return value


def _verified(
    transaction: Mapping[str, Any], *, notification_id: str, envelope: Mapping[str, Any]
) -> VerifiedNotification:
    """Read the trade out of a verified transaction; missing or unreadable values are "malformed"."""
    out_trade_no = transaction.get("out_trade_no")
    transaction_id = transaction.get("transaction_id", "")
    status = TRADE_STATES.get(str(transaction.get("trade_state", "")))
    amount = transaction.get("amount")
    if not isinstance(amount, dict):
        raise NotificationRejected("malformed", "amount missing")
    total = amount.get("total")
    if (
        not isinstance(out_trade_no, str)
        or not 0 < len(out_trade_no) <= 64
        or not isinstance(transaction_id, str)
        or len(transaction_id) > 64
        or status is None
        or (status == "succeeded" and not transaction_id)
    ):
        raise NotificationRejected("malformed", "out_trade_no, transaction_id or trade_state invalid")
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise NotificationRejected("malformed", "amount.total missing or invalid")
    if amount.get("currency", "CNY") != "CNY":
        raise NotificationRejected("malformed", "currency is not CNY")
    raw: dict[str, Any] = {key: transaction[key] for key in LOGGED_FIELDS if key in transaction}
    raw["amount"] = {key: amount[key] for key in ("total", "payer_total", "currency") if key in amount}
    raw |= {key: envelope[key] for key in ("id", "create_time", "event_type") if key in envelope}
    return VerifiedNotification(
        notification_id=notification_id,
        out_trade_no=out_trade_no,
        provider_trade_no=transaction_id,
        amount_fen=total,
        status=status,
        raw=raw,
    )
