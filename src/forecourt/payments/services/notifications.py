"""Gateway notifications: verify, log every one, and credit an intent exactly once.

Exactly once rests on three guards, each enough alone: the intent's row is locked before anything is
checked; the move to "succeeded" is a conditional UPDATE whose row count says who won; and the
accepted notification id and the ledger movement sit under unique constraints.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from django.db import IntegrityError, transaction
from django.utils.datastructures import CaseInsensitiveMapping

from forecourt.core.clock import now
from forecourt.core.logging import log_context, redact
from forecourt.payments.models import (
    NOTIFYING_PROVIDERS,
    IntentStatus,
    NotificationResult,
    NotificationSource,
    PaymentIntent,
    PaymentNotification,
)
from forecourt.payments.providers import (
    NotificationRejected,
    Provider,
    VerifiedNotification,
    provider_get,
)
from forecourt.payments.services.intents import intent_credit, intent_fail

logger = logging.getLogger(__name__)

BODY_LOG_LIMIT = 4000
# Never kept in the notification log: signatures, encrypted payloads, and who the payer is at the gateway.
_SECRET_KEYS = frozenset(
    {
        "sign", "signature", "paysign", "ciphertext", "associated_data", "nonce", "buyer_id",
        "buyer_logon_id", "buyer_user_id", "buyer_open_id", "openid", "sp_openid", "sub_openid", "payer",
        "phone", "mobile", "password", "token", "secret",
    }
)  # fmt: skip
_FALLBACK_ACK = (400, b"failure", "text/plain")


@dataclass(frozen=True)
class NotificationOutcome:
    """What became of a notification, and the answer the gateway expects.

    `accepted`: the notification was verified and the gateway is told it arrived (also for a duplicate,
    so the gateway stops retrying); `duplicate`: it changed nothing because it was handled before.
    """

    accepted: bool
    duplicate: bool
    reason: str
    response_status: int
    response_body: bytes
    content_type: str


def _text(value: str) -> str:
    # PostgreSQL text and jsonb cannot hold NUL characters, and a forged body may be full of them.
    return value.replace("\x00", "\ufffd")


def _redacted(value: Any, key: str = "") -> Any:
    if key.lower() in _SECRET_KEYS:
        return "[redacted]"
    if isinstance(value, dict):
        return {_text(str(name)): _redacted(item, str(name)) for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(item) for item in value]
    if isinstance(value, str):
        return _text(redact(value))
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return _text(redact(str(value)))


def _body_for_log(body: bytes) -> tuple[str, str]:
    """The body with secrets masked, for the log, and the out_trade_no it claims (unverified)."""
    text = body[: BODY_LOG_LIMIT * 2].decode("utf-8", "replace")
    claimed = ""
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        claimed = str(parsed.get("out_trade_no") or "")
        text = json.dumps(_redacted(parsed), ensure_ascii=False, sort_keys=True)
    elif "=" in text:
        pairs = parse_qsl(text, keep_blank_values=True)
        if pairs:
            claimed = next((value for name, value in pairs if name == "out_trade_no"), "")
            text = "&".join(f"{name}={_redacted(value, name)}" for name, value in pairs)
    return _text(redact(text))[:BODY_LOG_LIMIT], _text(claimed)[:64]


def _ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip())) if value else None
    except ValueError:
        return None


def _log(
    *,
    provider: str,
    result: str,
    reason: str,
    body: bytes,
    ip: str,
    source: str = NotificationSource.NOTIFY,
    verified: VerifiedNotification | None = None,
    intent: PaymentIntent | None = None,
) -> PaymentNotification:
    text, claimed = _body_for_log(body)
    return PaymentNotification.objects.create(
        provider=_text(provider)[:20],
        source=source,
        notification_id=_text(verified.notification_id if verified else "")[:128],
        out_trade_no=_text(verified.out_trade_no if verified else claimed)[:64],
        intent=intent,
        status=_text(verified.status if verified else "")[:20],
        amount_fen=verified.amount_fen if verified else None,
        outcome=result,
        reason=_text(reason)[:60],
        received_at=now(),
        ip=_ip(ip),
        body=text,
        fields=_redacted(dict(verified.raw)) if verified else {},
    )


def _outcome(
    gateway: Provider | None, *, accepted: bool, duplicate: bool, reason: str
) -> NotificationOutcome:
    status, body, content_type = _FALLBACK_ACK
    if gateway is not None:
        try:
            status, body, content_type = gateway.acknowledge(accepted=accepted)
        except Exception:
            logger.exception("acknowledge failed", extra=log_context(provider=getattr(gateway, "name", "")))
    return NotificationOutcome(
        accepted=accepted,
        duplicate=duplicate,
        reason=reason,
        response_status=status,
        response_body=body,
        content_type=content_type,
    )


def _rejected(
    gateway: Provider | None, *, provider: str, reason: str, body: bytes, ip: str, **log: Any
) -> NotificationOutcome:
    logger.warning(
        "payment notification rejected", extra=log_context(provider=provider, reason=reason, ip=ip)
    )
    _log(provider=provider, result=NotificationResult.REJECTED, reason=reason, body=body, ip=ip, **log)
    return _outcome(gateway, accepted=False, duplicate=False, reason=reason)


def payment_notification_receive(
    *, provider: str, headers: Mapping[str, str], body: bytes, ip: str = ""
) -> NotificationOutcome:
    """Verify and log a gateway notification, credit its intent at most once, and say what to answer."""
    body = bytes(body or b"")
    if not isinstance(headers, CaseInsensitiveMapping):
        headers = CaseInsensitiveMapping(dict(headers or {}))
    if provider not in NOTIFYING_PROVIDERS:
        return _rejected(None, provider=str(provider), reason="unknown_provider", body=body, ip=ip)
    try:
        gateway = provider_get(provider)
    except Exception:
        logger.exception("payment provider failed to load", extra=log_context(provider=provider))
        return _rejected(None, provider=provider, reason="not_configured", body=body, ip=ip)
    try:
        verified = gateway.verify_notification(headers=headers, body=body)
    except NotificationRejected as rejection:
        return _rejected(gateway, provider=provider, reason=rejection.reason, body=body, ip=ip)
    except Exception:
        # A body a provider could not even parse: still nothing but a rejected, logged notification.
        logger.exception("notification verification crashed", extra=log_context(provider=provider))
        return _rejected(gateway, provider=provider, reason="malformed", body=body, ip=ip)
    return notification_apply(gateway=gateway, verified=verified, body=body, ip=ip)


def notification_apply(
    *,
    gateway: Provider,
    verified: VerifiedNotification,
    body: bytes = b"",
    ip: str = "",
    source: str = NotificationSource.NOTIFY,
) -> NotificationOutcome:
    """Apply a verified notification (or query answer) to its intent, logging what became of it."""
    provider = gateway.name
    if not verified.notification_id or not verified.out_trade_no:
        return _rejected(gateway, provider=provider, reason="malformed", body=body, ip=ip, source=source)
    try:
        with transaction.atomic():
            return _apply_locked(gateway, verified, body=body, ip=ip, source=source)
    except IntegrityError:
        # The accepted id or the ledger movement already exists: another delivery of the same news won.
        # Anything else is a real fault: raise, so the gateway is told "failure" and delivers again.
        intent = PaymentIntent.objects.filter(provider=provider, out_trade_no=verified.out_trade_no).first()
        already = PaymentNotification.objects.filter(
            provider=provider, notification_id=verified.notification_id, outcome=NotificationResult.ACCEPTED
        ).exists() or (
            verified.status == "succeeded" and getattr(intent, "status", "") == IntentStatus.SUCCEEDED
        )
        if not already:
            raise
        _log(
            provider=provider,
            result=NotificationResult.DUPLICATE,
            reason="already_accepted",
            body=body,
            ip=ip,
            source=source,
            verified=verified,
            intent=intent,
        )
        return _outcome(gateway, accepted=True, duplicate=True, reason="already_accepted")


def _apply_locked(
    gateway: Provider, verified: VerifiedNotification, *, body: bytes, ip: str, source: str
) -> NotificationOutcome:
    provider = gateway.name
    log: dict[str, Any] = {
        "provider": provider,
        "body": body,
        "ip": ip,
        "source": source,
        "verified": verified,
    }
    # The row lock comes before every check below, so concurrent deliveries are judged one at a time.
    intent = (
        PaymentIntent.objects.select_for_update()
        .filter(provider=provider, out_trade_no=verified.out_trade_no)
        .first()
    )
    if intent is None:
        return _rejected(gateway, reason="unknown_trade", **log)
    log["intent"] = intent
    if verified.amount_fen != intent.amount_fen:
        return _rejected(gateway, reason="amount_mismatch", **log)
    seen = PaymentNotification.objects.filter(
        provider=provider, notification_id=verified.notification_id, outcome=NotificationResult.ACCEPTED
    ).exists()
    if seen:
        return _duplicate(gateway, reason="already_accepted", log=log)
    if verified.status == "succeeded":
        if not intent_credit(intent=intent, provider_trade_no=verified.provider_trade_no):
            return _duplicate(gateway, reason="already_succeeded", log=log)
        return _accepted(gateway, reason="credited", log=log)
    if verified.status in (IntentStatus.FAILED, IntentStatus.CLOSED):
        why = str(verified.raw.get("reason") or verified.status) if isinstance(verified.raw, dict) else ""
        if not intent_fail(intent=intent, status=verified.status, reason=why or verified.status):
            # Already paid, failed or closed: news of a failure changes nothing (a closed trade after a
            # full refund is normal at Alipay).
            return _duplicate(gateway, reason=f"already_{intent.status}", log=log)
        return _accepted(gateway, reason=verified.status, log=log)
    if verified.status == "pending":
        return _accepted(gateway, reason="pending", log=log)
    return _rejected(gateway, reason="malformed", **log)


def _accepted(gateway: Provider, *, reason: str, log: dict[str, Any]) -> NotificationOutcome:
    _log(result=NotificationResult.ACCEPTED, reason=reason, **log)
    return _outcome(gateway, accepted=True, duplicate=False, reason=reason)


def _duplicate(gateway: Provider, *, reason: str, log: dict[str, Any]) -> NotificationOutcome:
    _log(result=NotificationResult.DUPLICATE, reason=reason, **log)
    return _outcome(gateway, accepted=True, duplicate=True, reason=reason)


def payment_intent_query(*, intent: PaymentIntent) -> PaymentIntent:
    """Ask the gateway about an unpaid intent whose notification is late, and apply its answer once."""
    current = PaymentIntent.objects.get(pk=intent.pk)
    if current.status == IntentStatus.SUCCEEDED or current.provider not in NOTIFYING_PROVIDERS:
        return current
    try:
        gateway = provider_get(current.provider)
        if not gateway.is_configured():
            return current
        # Outside any transaction: the gateway may take seconds to answer.
        answer = gateway.query(current)
    except Exception:
        logger.exception("payment query failed", extra=log_context(intent=current.public_id))
        return current
    if answer is None:
        return current
    raw_body = json.dumps(_redacted(dict(answer.raw)), ensure_ascii=False, default=str).encode()
    if answer.out_trade_no != current.out_trade_no:
        _rejected(
            gateway,
            provider=current.provider,
            reason="wrong_trade",
            body=raw_body,
            ip="",
            source=NotificationSource.QUERY,
            intent=current,
        )
        return current
    # A query answer is news like a notification, under an id of its own: the same answer twice is a
    # duplicate.
    answer_id = f"query:{answer.provider_trade_no or answer.notification_id}:{answer.status}"[:128]
    notification_apply(
        gateway=gateway,
        verified=VerifiedNotification(
            notification_id=answer_id,
            out_trade_no=answer.out_trade_no,
            provider_trade_no=answer.provider_trade_no,
            amount_fen=answer.amount_fen,
            status=answer.status,
            raw=dict(answer.raw),
        ),
        body=raw_body,
        source=NotificationSource.QUERY,
    )
    return PaymentIntent.objects.get(pk=intent.pk)
