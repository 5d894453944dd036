"""Local stand-ins for Alipay's and WeChat Pay's gateways, speaking their real wire formats.

Each is a threaded HTTP server on 127.0.0.1 with keys generated for the test session. It checks our
requests as the gateway does (Alipay: RSA2 over the sorted parameters; WeChat Pay: the Authorization
header), keeps the trades it was asked for, answers signed with the gateway's key, and builds genuine
notifications; attributes make it misbehave (answers signed with another key, a refund still processing).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
import threading
import time
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from cryptography.x509.oid import NameOID

from forecourt.core import clock

Answer = tuple[int, dict[str, str], bytes]


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    """PKCS#8 ("BEGIN PRIVATE KEY"), the form WeChat Pay's merchant tool and wechatpayv3 use."""
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def rsa2_sign(key: rsa.RSAPrivateKey, text: str) -> str:
    """SHA256withRSA (PKCS#1 v1.5), base64: what Alipay calls RSA2 and WeChat Pay calls SHA256-RSA2048."""
    return base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa2_verify(public_key: Any, text: str, signature: str) -> bool:
    try:
        public_key.verify(base64.b64decode(signature), text.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


class _StandInServer:
    """A threaded HTTP server whose requests go to ``answer(method, path, headers, body)``."""

    def __init__(self, answer: Any) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, content = answer(self.command, self.path, dict(self.headers.items()), body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# Alipay -------------------------------------------------------------------------------------------


class AlipayStandIn:
    """openapi.alipay.com/gateway.do: page/wap pay pages, trade query, refund and refund query."""

    def __init__(self, *, app_id: str = "2021000122600001", seller_id: str = "2088621000000001") -> None:
        self.app_id, self.seller_id = app_id, seller_id
        self.app_key = rsa_key()  # the merchant's application key (we sign with it)
        self.alipay_key = rsa_key()  # Alipay's key (it signs answers and notifications)
        self.answer_key: rsa.RSAPrivateKey | None = None  # set to sign answers with another key
        self.trades: dict[str, dict[str, Any]] = {}
        self.refunds: dict[tuple[str, str], str] = {}  # (out_trade_no, out_request_no) → amount
        self.calls: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._server = _StandInServer(self._answer)

    @property
    def gateway_url(self) -> str:
        return f"{self._server.origin}/gateway.do"

    def settings(self) -> dict[str, Any]:
        return {
            "ALIPAY_APP_ID": self.app_id,
            "ALIPAY_SELLER_ID": self.seller_id,
            "ALIPAY_APP_PRIVATE_KEY": private_pem(self.app_key),
            "ALIPAY_PUBLIC_KEY": public_pem(self.alipay_key),
            "ALIPAY_GATEWAY_URL": self.gateway_url,
            "ALIPAY_NOTIFY_URL": "https://forecourt.example.com/payments/alipay/notify",
        }

    def close(self) -> None:
        self._server.close()

    # What the payer does at Alipay ----------------------------------------------------------------

    def pay(self, out_trade_no: str, *, trade_status: str = "TRADE_SUCCESS") -> dict[str, Any]:
        with self._lock:
            trade = self.trades[out_trade_no]
            trade["trade_status"] = trade_status
            trade["gmt_payment"] = clock.local_now().strftime("%Y-%m-%d %H:%M:%S")
            return dict(trade)

    def notification(
        self,
        out_trade_no: str,
        *,
        total_amount: str | None = None,
        trade_status: str = "TRADE_SUCCESS",
        notify_id: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        changes: dict[str, str] | None = None,
        after_signing: dict[str, str] | None = None,
    ) -> bytes:
        """The form body Alipay POSTs to notify_url, signed over every field but sign and sign_type.
        ``changes`` alter fields before signing (a genuine notification about something else),
        ``after_signing`` afterwards (tampering); ``key`` signs with another key."""
        trade = self.trades.get(out_trade_no, {})
        now = clock.local_now().strftime("%Y-%m-%d %H:%M:%S")
        amount = total_amount or trade.get("total_amount", "0.01")
        fields = {
            "notify_time": now, "notify_type": "trade_status_sync",
            "notify_id": notify_id or secrets.token_hex(16), "charset": "utf-8", "version": "1.0",
            "app_id": self.app_id, "auth_app_id": self.app_id,
            "seller_id": self.seller_id, "out_trade_no": out_trade_no, "trade_status": trade_status,
            "trade_no": trade.get("trade_no", "2026" + secrets.token_hex(12)),
            "buyer_id": "2088102177846880", "buyer_logon_id": "159****5620",
            "total_amount": amount, "receipt_amount": amount, "buyer_pay_amount": amount,
            "subject": trade.get("subject", "Forecourt"), "gmt_create": now, "gmt_payment": now,
            "fund_bill_list": '[{"amount":"0.01","fundChannel":"ALIPAYACCOUNT"}]',
        } | (changes or {})  # fmt: skip
        content = "&".join(f"{name}={fields[name]}" for name in sorted(fields))
        fields["sign"] = rsa2_sign(key or self.alipay_key, content)
        fields["sign_type"] = "RSA2"
        fields |= after_signing or {}
        return urlencode(fields).encode()

    # The gateway ----------------------------------------------------------------------------------

    def _answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        url = urlsplit(path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        if method == "POST" and body:
            params |= dict(parse_qsl(body.decode(), keep_blank_values=True))
        api = params.get("method", "")
        with self._lock:
            self.calls.append((api, params))
        response_type = api.replace(".", "_") + "_response"
        if url.path != "/gateway.do" or not api:
            return 404, {"Content-Type": "text/plain"}, b"not found"
        problem = self._check_request(params)
        if problem:
            # Alipay cannot sign for an app it could not identify: this answer carries no signature.
            payload = {"code": "40002", "msg": "Invalid Arguments", "sub_code": problem, "sub_msg": problem}
            return (
                200,
                {"Content-Type": "application/json;charset=utf-8"},
                _json({response_type: payload}).encode(),
            )
        try:
            biz = json.loads(params.get("biz_content") or "{}")
        except ValueError:
            biz = {}
        if api in ("alipay.trade.page.pay", "alipay.trade.wap.pay"):
            return self._cashier(api, params, biz)
        handlers = {
            "alipay.trade.query": self._query,
            "alipay.trade.refund": self._refund,
            "alipay.trade.fastpay.refund.query": self._refund_query,
        }
        if api not in handlers:
            payload = {"code": "40004", "msg": "Business Failed", "sub_code": "isv.invalid-method"}
        else:
            with self._lock:
                payload = handlers[api](biz)
        text = _json(payload)
        sign = rsa2_sign(self.answer_key or self.alipay_key, text)
        answer = f'{{"{response_type}":{text},"sign":"{sign}"}}'
        return 200, {"Content-Type": "application/json;charset=utf-8"}, answer.encode()

    def _check_request(self, params: dict[str, str]) -> str:
        """The sub_code Alipay answers for a request it will not read, or "" for a good one."""
        if params.get("app_id") != self.app_id:
            return "isv.invalid-app-id"
        if params.get("sign_type") != "RSA2" or params.get("charset") != "utf-8":
            return "isv.invalid-signature-type"
        if not re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", params.get("timestamp", "")):
            return "isv.invalid-timestamp"
        # Request rule: every non-empty parameter except sign (sign_type included), sorted, unencoded.
        content = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v != "")
        if not rsa2_verify(self.app_key.public_key(), content, params.get("sign", "")):
            return "isv.invalid-signature"
        return ""

    def _cashier(self, api: str, params: dict[str, str], biz: dict[str, Any]) -> Answer:
        product = {"alipay.trade.page.pay": "FAST_INSTANT_TRADE_PAY", "alipay.trade.wap.pay": "QUICK_WAP_PAY"}
        if biz.get("product_code") != product[api] or not biz.get("out_trade_no"):
            return 200, {"Content-Type": "text/html;charset=utf-8"}, "<p>参数错误</p>".encode()
        trade_no = "2026" + "".join(secrets.choice("0123456789") for _ in range(24))
        with self._lock:
            self.trades.setdefault(biz["out_trade_no"], {
                "out_trade_no": biz["out_trade_no"], "total_amount": str(biz.get("total_amount")),
                "trade_no": trade_no, "trade_status": "WAIT_BUYER_PAY", "subject": str(biz.get("subject")),
                "notify_url": params.get("notify_url", ""), "return_url": params.get("return_url", ""),
            })  # fmt: skip
        return 200, {"Content-Type": "text/html;charset=utf-8"}, "<h1>支付宝收银台</h1>".encode()

    def _query(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self.trades.get(str(biz.get("out_trade_no", "")))
        if trade is None:
            return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"}
        paid = trade["total_amount"] if trade["trade_status"] != "WAIT_BUYER_PAY" else "0.00"
        return {
            "code": "10000", "msg": "Success", "trade_no": trade["trade_no"],
            "out_trade_no": trade["out_trade_no"], "buyer_logon_id": "159****5620",
            "buyer_user_id": "2088102177846880", "trade_status": trade["trade_status"],
            "total_amount": trade["total_amount"], "buyer_pay_amount": paid, "receipt_amount": paid,
        }  # fmt: skip

    def _refund(self, biz: dict[str, Any]) -> dict[str, Any]:
        failed = {"code": "40004", "msg": "Business Failed"}
        trade = self.trades.get(str(biz.get("out_trade_no", "")))
        if trade is None:
            return failed | {"sub_code": "ACQ.TRADE_NOT_EXIST", "sub_msg": "交易不存在"}
        if trade["trade_status"] not in ("TRADE_SUCCESS", "TRADE_CLOSED") or (
            trade["trade_status"] == "TRADE_CLOSED" and not trade.get("refunded")
        ):
            return failed | {"sub_code": "ACQ.TRADE_STATUS_ERROR", "sub_msg": "交易状态不合法"}
        request_no = str(biz.get("out_request_no") or trade["out_trade_no"])
        amount = str(biz.get("refund_amount", ""))
        if not re.fullmatch(r"\d+(\.\d{1,2})?", amount) or _fen(amount) <= 0:
            return failed | {"sub_code": "ACQ.INVALID_PARAMETER", "sub_msg": "参数无效"}
        key = (trade["out_trade_no"], request_no)
        fund_change = "N"
        if key in self.refunds:
            if self.refunds[key] != amount:
                return failed | {"sub_code": "ACQ.DISCORDANT_REPEAT_REQUEST", "sub_msg": "请求信息不一致"}
        else:
            refunded = sum(_fen(a) for (otn, _), a in self.refunds.items() if otn == trade["out_trade_no"])
            if refunded + _fen(amount) > _fen(trade["total_amount"]):
                return failed | {"sub_code": "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "sub_msg": "退款金额超限"}
            self.refunds[key] = amount
            fund_change = "Y"
            trade["refunded"] = refunded + _fen(amount)
            if trade["refunded"] == _fen(trade["total_amount"]):
                trade["trade_status"] = "TRADE_CLOSED"
        return {
            "code": "10000", "msg": "Success", "trade_no": trade["trade_no"],
            "out_trade_no": trade["out_trade_no"], "buyer_logon_id": "159****5620",
            "buyer_user_id": "2088102177846880", "fund_change": fund_change,
            "refund_fee": _yuan(trade.get("refunded", 0)),
            "gmt_refund_pay": clock.local_now().strftime("%Y-%m-%d %H:%M:%S"),
        }  # fmt: skip

    def _refund_query(self, biz: dict[str, Any]) -> dict[str, Any]:
        out_trade_no = str(biz.get("out_trade_no", ""))
        request_no = str(biz.get("out_request_no", ""))
        trade = self.trades.get(out_trade_no)
        answer: dict[str, Any] = {"code": "10000", "msg": "Success", "out_trade_no": out_trade_no}
        if trade is None:
            return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"}
        answer |= {"trade_no": trade["trade_no"], "out_request_no": request_no}
        if (out_trade_no, request_no) in self.refunds:
            # Alipay leaves refund_status out while a refund is not (or not yet) done.
            amount = self.refunds[(out_trade_no, request_no)]
            answer |= {
                "refund_amount": amount,
                "total_amount": trade["total_amount"],
                "refund_status": "REFUND_SUCCESS",
            }
        return answer


def _fen(yuan: str) -> int:
    return int(Decimal(yuan) * 100)


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


# WeChat Pay ---------------------------------------------------------------------------------------


def self_signed_certificate(key: rsa.RSAPrivateKey, *, valid_days: int = 5 * 365) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tenpay.com"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        # WeChat Pay's serials are 20 bytes (40 hex digits); X.509 allows at most 159 bits.
        .serial_number(secrets.randbits(158) | (1 << 158))
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=valid_days))
        .sign(key, hashes.SHA256())
    )


class WechatPayStandIn:
    """api.mch.weixin.qq.com for one merchant: JSAPI/H5/Native orders, query and refunds."""

    def __init__(self, *, mchid: str = "1900000109", appid: str = "wxd678efh567hg6787") -> None:
        self.mchid, self.appid = mchid, appid
        self.merchant_key = rsa_key()
        self.merchant_serial = secrets.token_hex(20).upper()
        self.platform_key = rsa_key()
        self.platform_certificate = self_signed_certificate(self.platform_key)
        self.certificate_serial = f"{self.platform_certificate.serial_number:X}"
        self.public_key_id = "PUB_KEY_ID_" + "".join(secrets.choice("0123456789") for _ in range(32))
        self.apiv3_key = secrets.token_hex(16)  # 32 characters: an AES-256 key
        self.signs_with = "public_key"  # or "certificate": which platform credential signs
        self.answer_key: rsa.RSAPrivateKey | None = None  # set to sign answers with another key
        self.refund_status = "SUCCESS"  # or "PROCESSING" while the bank has not confirmed
        self.trades: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._server = _StandInServer(self._answer)

    @property
    def base_url(self) -> str:
        return self._server.origin

    @property
    def serial(self) -> str:
        return self.public_key_id if self.signs_with == "public_key" else self.certificate_serial

    def settings(self, *, mode: str = "public_key") -> dict[str, Any]:
        """Django settings for our provider; ``mode`` "public_key" or "certificate" (how we verify)."""
        by_key = mode == "public_key"
        return {
            "WECHATPAY_MCH_ID": self.mchid,
            "WECHATPAY_APP_ID": self.appid,
            "WECHATPAY_MERCHANT_PRIVATE_KEY": private_pem(self.merchant_key),
            "WECHATPAY_MERCHANT_SERIAL_NO": self.merchant_serial,
            "WECHATPAY_APIV3_KEY": self.apiv3_key,
            "WECHATPAY_BASE_URL": self.base_url,
            "WECHATPAY_NOTIFY_URL": "https://forecourt.example.com/payments/wechatpay/notify",
            "WECHATPAY_PLATFORM_PUBLIC_KEY": public_pem(self.platform_key) if by_key else "",
            "WECHATPAY_PLATFORM_PUBLIC_KEY_ID": self.public_key_id if by_key else "",
            "WECHATPAY_PLATFORM_CERTIFICATE": "" if by_key else self.certificate_pem,
        }

    @property
    def certificate_pem(self) -> str:
        return self.platform_certificate.public_bytes(Encoding.PEM).decode()

    def close(self) -> None:
        self._server.close()

    # What the payer does at WeChat Pay ------------------------------------------------------------

    def pay(self, out_trade_no: str, *, trade_state: str = "SUCCESS") -> dict[str, Any]:
        with self._lock:
            trade = self.trades[out_trade_no]
            trade["trade_state"] = trade_state
            trade["transaction_id"] = "4200" + "".join(secrets.choice("0123456789") for _ in range(24))
            trade["success_time"] = clock.local_now().isoformat(timespec="seconds")
            trade["amount"]["payer_total"] = trade["amount"]["total"]
            return json.loads(json.dumps(trade))

    def notification(
        self,
        out_trade_no: str,
        *,
        trade_state: str = "SUCCESS",
        changes: dict[str, Any] | None = None,
        timestamp: int | None = None,
        key: rsa.RSAPrivateKey | None = None,
        serial: str | None = None,
        apiv3_key: str | None = None,
        notification_id: str | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """Headers and body of the notification WeChat Pay POSTs to notify_url: the transaction
        encrypted with the APIv3 key (AEAD_AES_256_GCM), the envelope signed by the platform key.
        ``changes`` alter the transaction before encryption; ``key``/``serial``/``apiv3_key`` forge
        with other credentials; ``timestamp`` (Unix seconds) defaults to the app's clock."""
        trade = self.trades.get(out_trade_no) or {
            "out_trade_no": out_trade_no, "amount": {"total": 1, "currency": "CNY"}, "trade_type": "NATIVE",
        }  # fmt: skip
        total = trade["amount"]["total"]
        transaction = {
            "mchid": self.mchid, "appid": self.appid, "out_trade_no": out_trade_no,
            "transaction_id": trade.get("transaction_id") or "4200" + secrets.token_hex(12),
            "trade_type": trade.get("trade_type", "NATIVE"), "trade_state": trade_state,
            "trade_state_desc": "支付成功", "bank_type": "CMC", "attach": "",
            "success_time": clock.local_now().isoformat(timespec="seconds"),
            "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            "amount": {"total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY"},
        } | (changes or {})  # fmt: skip
        nonce = secrets.token_urlsafe(9)[:12]
        associated_data = "transaction"
        ciphertext = AESGCM((apiv3_key or self.apiv3_key).encode()).encrypt(
            nonce.encode(), _json(transaction).encode(), associated_data.encode()
        )
        envelope = {
            "id": notification_id or str(uuid.uuid4()),
            "create_time": clock.local_now().isoformat(timespec="seconds"),
            "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
            "resource": {
                "original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(ciphertext).decode(), "associated_data": associated_data,
                "nonce": nonce,
            },
        }  # fmt: skip
        body = _json(envelope)
        stamp = str(int(clock.now().timestamp()) if timestamp is None else timestamp)
        return self.signed_headers(body, timestamp=stamp, key=key, serial=serial), body.encode()

    def signed_headers(
        self, body: str, *, timestamp: str, key: rsa.RSAPrivateKey | None = None, serial: str | None = None
    ) -> dict[str, str]:
        nonce = secrets.token_hex(16)
        return {
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": rsa2_sign(key or self.platform_key, f"{timestamp}\n{nonce}\n{body}\n"),
            "Wechatpay-Serial": serial or self.serial,
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        }

    # The gateway ----------------------------------------------------------------------------------

    def _answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        text = body.decode()
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            data = None
        with self._lock:
            self.calls.append((method, path, data if isinstance(data, dict) else {}))
        if not self._authorized(method, path, headers, text):
            return self._reply(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        if data is None:
            return self._reply(400, {"code": "PARAM_ERROR", "message": "JSON 无法解析"})
        url = urlsplit(path)
        with self._lock:
            match = re.fullmatch(r"/v3/pay/transactions/(jsapi|h5|native)", url.path)
            if method == "POST" and match:
                return self._order(match.group(1), data)
            match = re.fullmatch(r"/v3/pay/transactions/out-trade-no/([^/]+)", url.path)
            if method == "GET" and match:
                return self._query(match.group(1), dict(parse_qsl(url.query)))
            if method == "POST" and url.path == "/v3/refund/domestic/refunds":
                return self._refund(data)
        return self._reply(404, {"code": "NOT_FOUND", "message": "接口不存在"})

    def _authorized(self, method: str, path: str, headers: dict[str, str], body: str) -> bool:
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        scheme, _, rest = authorization.partition(" ")
        fields = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        if scheme != "WECHATPAY2-SHA256-RSA2048" or fields.get("mchid") != self.mchid:
            return False
        if fields.get("serial_no") != self.merchant_serial or not fields.get("timestamp", "").isdigit():
            return False
        if abs(time.time() - int(fields["timestamp"])) > 300:
            return False
        message = f"{method}\n{path}\n{fields['timestamp']}\n{fields.get('nonce_str', '')}\n{body}\n"
        return rsa2_verify(self.merchant_key.public_key(), message, fields.get("signature", ""))

    def _reply(self, status: int, payload: dict[str, Any]) -> Answer:
        body = _json(payload)
        headers = self.signed_headers(body, timestamp=str(int(time.time())), key=self.answer_key)
        headers |= {"Content-Type": "application/json; charset=utf-8", "Request-ID": str(uuid.uuid4())}
        return status, headers, body.encode()

    def _order(self, kind: str, data: dict[str, Any]) -> Answer:
        amount = data.get("amount")
        total = amount.get("total") if isinstance(amount, dict) else None
        required = ("appid", "mchid", "description", "out_trade_no", "notify_url")
        missing = [name for name in required if not isinstance(data.get(name), str) or not data[name]]
        if missing or not isinstance(total, int) or isinstance(total, bool) or total <= 0:
            return self._reply(400, {"code": "PARAM_ERROR", "message": f"参数错误 {missing or 'amount'}"})
        if data["appid"] != self.appid or data["mchid"] != self.mchid:
            return self._reply(400, {"code": "APPID_MCHID_NOT_MATCH", "message": "appid和mch_id不匹配"})
        payer = data.get("payer")
        if kind == "jsapi" and not (isinstance(payer, dict) and payer.get("openid")):
            return self._reply(400, {"code": "PARAM_ERROR", "message": "缺少参数 payer.openid"})
        scene = data.get("scene_info")
        if kind == "h5" and not (
            isinstance(scene, dict)
            and scene.get("payer_client_ip")
            and isinstance(scene.get("h5_info"), dict)
        ):
            return self._reply(400, {"code": "PARAM_ERROR", "message": "缺少参数 scene_info"})
        out_trade_no = data["out_trade_no"]
        trade = self.trades.get(out_trade_no)
        if trade is not None and trade["amount"]["total"] != total:
            return self._reply(400, {"code": "INVALID_REQUEST", "message": "订单号重复"})
        if trade is None:
            trade = self.trades[out_trade_no] = {
                "appid": self.appid, "mchid": self.mchid, "out_trade_no": out_trade_no,
                "trade_type": kind.upper(), "trade_state": "NOTPAY", "trade_state_desc": "订单未支付",
                "amount": {"total": total, "currency": "CNY"}, "notify_url": data["notify_url"],
                "prepay_id": "wx" + secrets.token_hex(16),
            }  # fmt: skip
        answers = {
            "native": {"code_url": f"weixin://wxpay/bizpayurl?pr={secrets.token_urlsafe(6)}"},
            "h5": {"h5_url": "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb"
                   f"?prepay_id={trade['prepay_id']}&package=1037687096"},
            "jsapi": {"prepay_id": trade["prepay_id"]},
        }  # fmt: skip
        return self._reply(200, answers[kind])

    def _query(self, out_trade_no: str, query: dict[str, str]) -> Answer:
        if query.get("mchid") != self.mchid:
            return self._reply(400, {"code": "PARAM_ERROR", "message": "mchid 错误"})
        trade = self.trades.get(out_trade_no)
        if trade is None:
            return self._reply(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
        visible = {k: v for k, v in trade.items() if k not in ("notify_url", "prepay_id", "refunded")}
        if trade["trade_state"] != "NOTPAY":
            visible["payer"] = {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
        return self._reply(200, visible)

    def _refund(self, data: dict[str, Any]) -> Answer:
        amount = data.get("amount")
        refund, total = (amount.get("refund"), amount.get("total")) if isinstance(amount, dict) else (0, 0)
        out_refund_no = data.get("out_refund_no")
        if not (isinstance(out_refund_no, str) and isinstance(refund, int) and isinstance(total, int)):
            return self._reply(400, {"code": "PARAM_ERROR", "message": "参数错误"})
        if out_refund_no in self.refunds:
            return self._reply(200, self.refunds[out_refund_no])
        trade = self.trades.get(str(data.get("out_trade_no", "")))
        if trade is None or trade["trade_state"] not in ("SUCCESS", "REFUND"):
            return self._reply(404, {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在"})
        if total != trade["amount"]["total"] or refund <= 0:
            return self._reply(400, {"code": "PARAM_ERROR", "message": "订单金额或退款金额与之前请求不一致"})
        if trade.get("refunded", 0) + refund > total:
            return self._reply(403, {"code": "NOT_ENOUGH", "message": "申请退款金额超过订单可退金额"})
        trade["refunded"] = trade.get("refunded", 0) + refund
        trade["trade_state"] = "REFUND"
        answer = {
            "refund_id": "5030" + "".join(secrets.choice("0123456789") for _ in range(25)),
            "out_refund_no": out_refund_no, "transaction_id": trade.get("transaction_id", ""),
            "out_trade_no": trade["out_trade_no"], "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "create_time": clock.local_now().isoformat(timespec="seconds"), "status": self.refund_status,
            "funds_account": "AVAILABLE",
            "amount": {
                "total": total, "refund": refund, "payer_total": total, "payer_refund": refund,
                "settlement_refund": refund, "settlement_total": total, "discount_refund": 0,
                "currency": "CNY", "refund_fee": 0,
            },
        }  # fmt: skip
        self.refunds[out_refund_no] = answer
        return self._reply(200, answer)
