"""Payment intents: create one per amount owed, start paying it, close it, credit it exactly once."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from forecourt.accounts.models import DEALER_ROLES, Role, User
from forecourt.core.audit import audit_record
from forecourt.core.clock import now
from forecourt.core.errors import CoreErrorCode, DomainError, field_error
from forecourt.core.events import event_record
from forecourt.core.identifiers import public_id, random_code
from forecourt.core.logging import log_context
from forecourt.core.money import Money
from forecourt.payments.errors import PaymentErrorCode
from forecourt.payments.models import (
    PROVIDER_CHANNELS,
    PROVIDERS,
    IntentStatus,
    PaymentIntent,
    Provider,
)
from forecourt.payments.providers import PaymentStart, UnknownProvider, provider_get
from forecourt.payments.services.inputs import (
    amount_parse,
    idempotency_key_parse,
    invalid,
    purpose_parse,
    reused_key,
    text_parse,
)
from forecourt.payments.services.ledger import ledger_payment_record

logger = logging.getLogger(__name__)

SUBJECT_TYPE = "payment_intent"
RECORDING_ROLES: frozenset[str] = frozenset({*DEALER_ROLES, Role.OPS})
_RETURN_URL = re.compile(r"(/(?![/\\])|https?://[^\s/?#\\]+(?:[/?#]|$))[^\s\\]*")


def out_trade_no_new() -> str:
    # 24 characters of [0-9A-Z]: within every gateway's limit (WeChat Pay: 6–32), 110 bits of chance.
    return "FC" + random_code(22)


def _succeeded_payload(intent: PaymentIntent) -> dict[str, Any]:
    return {
        "intent": intent.public_id,
        "purpose": intent.purpose,
        "reference": intent.reference,
        "amount_fen": intent.amount_fen,
        "currency": intent.currency,
        "provider": intent.provider,
        "paid_at": intent.paid_at.isoformat() if intent.paid_at else None,
    }


def _provider_available(name: str) -> None:
    try:
        configured = provider_get(name).is_configured()
    except UnknownProvider:
        raise invalid("provider", _("Unknown payment provider.")) from None
    except Exception:
        logger.exception("payment provider failed to load", extra=log_context(provider=name))
        configured = False
    if not configured:
        raise DomainError(
            PaymentErrorCode.PROVIDER_UNAVAILABLE,
            _("This payment method is not available right now. Choose another one."),
            status=503,
            details={"provider": name},
        )


def _same_request(intent: PaymentIntent, fields: dict[str, Any]) -> PaymentIntent:
    """The intent an earlier call with this key created, if the call asked for the same thing."""
    for name, value in fields.items():
        if getattr(intent, name) != value:
            raise reused_key()
    return intent


def _created_or_existing(key: str, fields: dict[str, Any], build: Any) -> PaymentIntent:
    existing = PaymentIntent.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _same_request(existing, fields)
    try:
        with transaction.atomic():
            return build()
    except IntegrityError:
        # A concurrent call with the same key won the unique constraint: answer with its intent.
        existing = PaymentIntent.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return _same_request(existing, fields)


def payment_intent_create(
    *,
    purpose: str,
    reference: str,
    amount: Money,
    payer: User | None,
    provider: str,
    channel: str = "",
    description: str,
    idempotency_key: str,
    payer_reference: str = "",
) -> PaymentIntent:
    """An intent to pay `amount` for a purpose and reference; the same idempotency key, the same intent."""
    key = idempotency_key_parse(idempotency_key)
    if provider not in PROVIDERS:
        raise invalid("provider", _("Choose one of: %(allowed)s.") % {"allowed": ", ".join(PROVIDERS)})
    channels = PROVIDER_CHANNELS[provider]
    channel = channel or channels[0]
    if channel not in channels:
        raise invalid("channel", _("Choose one of: %(allowed)s.") % {"allowed": ", ".join(channels)})
    money = amount_parse(amount)
    fields: dict[str, Any] = {
        "purpose": purpose_parse(purpose),
        "reference": text_parse(reference, field="reference", max_length=64),
        "amount_fen": money.amount,
        "currency": money.currency,
        "provider": provider,
        "channel": channel,
        "payer_id": getattr(payer, "pk", None),
    }
    cleaned_description = text_parse(description, field="description", max_length=127)
    payer_reference = text_parse(payer_reference, field="payer_reference", max_length=128, required=False)

    def build() -> PaymentIntent:
        # Only a new intent needs the provider now: a repeat with the key is answered even if it is away.
        _provider_available(provider)
        moment = now()
        intent = PaymentIntent.objects.create(
            public_id=public_id("pay"),
            out_trade_no=out_trade_no_new(),
            idempotency_key=key,
            description=cleaned_description,
            payer_reference=payer_reference,
            created_at=moment,
            updated_at=moment,
            expires_at=moment + timedelta(minutes=settings.PAYMENTS_INTENT_TTL_MINUTES),
            **fields,
        )
        event_record(
            "payment.created",
            subject_type=SUBJECT_TYPE,
            subject_id=intent.public_id,
            actor=payer,
            payload={
                "intent": intent.public_id,
                "purpose": intent.purpose,
                "reference": intent.reference,
                "amount_fen": intent.amount_fen,
                "currency": intent.currency,
                "provider": intent.provider,
            },
        )
        return intent

    return _created_or_existing(key, fields, build)


def return_url_parse(return_url: Any) -> str:
    """A path on this site ("/orders/…") or an absolute http(s) URL; nothing a browser could misread."""
    if not isinstance(return_url, str) or len(return_url) > 500 or not _RETURN_URL.fullmatch(return_url):
        raise invalid("return_url", _("Give a path on this site or an http(s) address."))
    return return_url


def return_url_on_site(return_url: str) -> str:
    """A page of this site's allowed hosts to send the payer back to; anything else is a 422."""
    if not url_has_allowed_host_and_scheme(
        return_url, allowed_hosts=set(settings.ALLOWED_HOSTS), require_https=False
    ):
        raise field_error(CoreErrorCode.INVALID, "return_url", _("Return to a page of this site."))
    return return_url


def payment_start(*, intent: PaymentIntent, return_url: str) -> PaymentStart:
    """How the payer pays `intent` now: a page to go to, a QR code to scan, JSAPI parameters, or nothing."""
    url = return_url_parse(return_url)
    intent = PaymentIntent.objects.get(pk=intent.pk)
    if intent.status == IntentStatus.SUCCEEDED:
        return PaymentStart(kind="done")
    if intent.status != IntentStatus.CREATED or intent.expires_at <= now():
        raise DomainError(
            PaymentErrorCode.NOT_PAYABLE,
            _("This payment can no longer be made. Start the payment again."),
            status=409,
            details={"status": intent.status},
        )
    _provider_available(intent.provider)
    if intent.return_url != url:
        PaymentIntent.objects.filter(pk=intent.pk).update(return_url=url, updated_at=now())
        intent.return_url = url
    provider = provider_get(intent.provider)
    try:
        # Outside any transaction of ours: a gateway's pre-order call may take seconds.
        return provider.start(intent, return_url=url, channel=intent.channel)
    except DomainError:
        raise
    except Exception:
        logger.exception(
            "payment start failed", extra=log_context(intent=intent.public_id, provider=intent.provider)
        )
        raise DomainError(
            PaymentErrorCode.PROVIDER_UNAVAILABLE,
            _("The payment service did not answer. Try again in a moment."),
            status=502,
            details={"provider": intent.provider},
        ) from None


def payment_intent_close(*, intent: PaymentIntent) -> PaymentIntent:
    """Stop taking money for an unpaid intent; closing a closed or failed one changes nothing."""
    with transaction.atomic():
        locked = PaymentIntent.objects.select_for_update().get(pk=intent.pk)
        if locked.status == IntentStatus.SUCCEEDED:
            raise DomainError(
                PaymentErrorCode.ALREADY_SUCCEEDED,
                _("This payment has already been made; refund it instead."),
                status=409,
            )
        if locked.status != IntentStatus.CREATED:
            return locked
        moment = now()
        locked.status = IntentStatus.CLOSED
        locked.closed_at = moment
        locked.updated_at = moment
        locked.save(update_fields=["status", "closed_at", "updated_at"])
        event_record(
            "payment.closed",
            subject_type=SUBJECT_TYPE,
            subject_id=locked.public_id,
            payload={"intent": locked.public_id, "purpose": locked.purpose, "reference": locked.reference},
        )
        return locked


def intent_credit(*, intent: PaymentIntent, provider_trade_no: str, actor: Any = None) -> bool:
    """Mark a row-locked intent paid, write its ledger movement and record payment.succeeded — once.

    The caller holds the intent's row lock; the conditional UPDATE is the second guard: only one caller
    ever moves the row to "succeeded", and only that caller writes the ledger and the event.
    A late success on a closed or failed intent is credited too: the payer's money was received
    all the same, and payment.succeeded lets the intent's owner notice and refund it.
    """
    moment = now()
    updated = (
        PaymentIntent.objects.filter(pk=intent.pk)
        .exclude(status=IntentStatus.SUCCEEDED)
        .update(
            status=IntentStatus.SUCCEEDED,
            paid_at=moment,
            updated_at=moment,
            provider_trade_no=provider_trade_no[:64],
            failure_reason="",
        )
    )
    if updated != 1:
        return False
    intent.refresh_from_db()
    ledger_payment_record(intent=intent)
    event_record(
        "payment.succeeded",
        subject_type=SUBJECT_TYPE,
        subject_id=intent.public_id,
        actor=actor,
        payload=_succeeded_payload(intent),
    )
    return True


def intent_fail(*, intent: PaymentIntent, status: str, reason: str) -> bool:
    """Mark a row-locked, still unpaid intent failed or closed and record payment.failed."""
    moment = now()
    changes: dict[str, Any] = {"status": status, "updated_at": moment, "failure_reason": reason[:100]}
    if status == IntentStatus.CLOSED:
        changes["closed_at"] = moment
    updated = PaymentIntent.objects.filter(pk=intent.pk, status=IntentStatus.CREATED).update(**changes)
    if updated != 1:
        return False
    intent.refresh_from_db()
    event_record(
        "payment.failed",
        subject_type=SUBJECT_TYPE,
        subject_id=intent.public_id,
        payload={
            "intent": intent.public_id,
            "purpose": intent.purpose,
            "reference": intent.reference,
            "reason": reason,
        },
    )
    return True


def payment_offline_record(
    *,
    purpose: str,
    reference: str,
    amount: Money,
    payer: User | None,
    actor: User,
    receipt_number: str,
    idempotency_key: str,
) -> PaymentIntent:
    """Staff confirm money received in store: an "offline" intent, succeeded at once, audited."""
    key = idempotency_key_parse(idempotency_key)
    if not getattr(actor, "is_authenticated", False) or (
        getattr(actor, "role", None) not in RECORDING_ROLES and not getattr(actor, "is_superuser", False)
    ):
        raise DomainError(
            CoreErrorCode.FORBIDDEN,
            _("Only dealer staff or operations may record a store payment."),
            status=403,
        )
    money = amount_parse(amount)
    receipt = text_parse(receipt_number, field="receipt_number", max_length=64)
    fields: dict[str, Any] = {
        "purpose": purpose_parse(purpose),
        "reference": text_parse(reference, field="reference", max_length=64),
        "amount_fen": money.amount,
        "currency": money.currency,
        "provider": Provider.OFFLINE.value,
        "payer_id": getattr(payer, "pk", None),
        "receipt_number": receipt,
    }

    def build() -> PaymentIntent:
        moment = now()
        intent = PaymentIntent.objects.create(
            public_id=public_id("pay"),
            out_trade_no=out_trade_no_new(),
            idempotency_key=key,
            channel=PROVIDER_CHANNELS[Provider.OFFLINE][0],
            description=f"Store payment {receipt}"[:127],
            recorded_by=actor,
            created_at=moment,
            updated_at=moment,
            expires_at=moment,
            **fields,
        )
        intent_credit(intent=intent, provider_trade_no=receipt, actor=actor)
        audit_record(
            actor=actor,
            action="payment.offline_recorded",
            object_type=SUBJECT_TYPE,
            object_id=intent.public_id,
            details={"receipt_number": receipt, "amount_fen": money.amount, "reference": intent.reference},
        )
        return intent

    try:
        return _created_or_existing(key, fields, build)
    except IntegrityError:
        if PaymentIntent.objects.filter(provider=Provider.OFFLINE, receipt_number=receipt).exists():
            raise DomainError(
                PaymentErrorCode.RECEIPT_ALREADY_RECORDED,
                _("This receipt number has already been recorded."),
                status=409,
                details={"field": "receipt_number"},
            ) from None
        raise
