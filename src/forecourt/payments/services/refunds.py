"""Refunds: never more than was paid minus what is refunded or being refunded, each written once.

Money that moves inside Forecourt (sandbox, offline) is refunded in the service's own transaction.
For a gateway the amount is reserved under the intent's row lock (`refunding_fen`, bounded by a
CheckConstraint) and the gateway is called after commit by a task — never while we hold a lock or a
transaction, since its answer may take seconds. The refund settles when the gateway's answer comes
(`payment_refund_settle`); `payment.refunded` is recorded only then, and only for a success. A refund
whose call was lost stays "pending" and `payments_sweep` asks again: the gateway refunds once per
`out_refund_no`, so asking twice is safe.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from forecourt.accounts.models import User
from forecourt.core.clock import now
from forecourt.core.errors import DomainError
from forecourt.core.events import event_record
from forecourt.core.identifiers import public_id, random_code
from forecourt.core.logging import log_context
from forecourt.core.money import Money
from forecourt.payments.errors import PaymentErrorCode
from forecourt.payments.models import (
    LOCAL_PROVIDERS,
    IntentStatus,
    PaymentIntent,
    Refund,
    RefundStatus,
)
from forecourt.payments.providers import RefundResult, provider_get
from forecourt.payments.services.inputs import amount_parse, idempotency_key_parse, reused_key, text_parse
from forecourt.payments.services.intents import SUBJECT_TYPE
from forecourt.payments.services.ledger import ledger_refund_record

logger = logging.getLogger(__name__)

# A pending gateway refund older than this is asked about again by the sweeper.
RESUBMIT_AFTER = timedelta(minutes=5)


def _same_refund(refund: Refund, *, intent: PaymentIntent, amount_fen: int) -> Refund:
    if refund.intent_id != intent.pk or refund.amount_fen != amount_fen:
        raise reused_key()
    return refund


def payment_refund(
    *,
    intent: PaymentIntent,
    amount: Money,
    reason: str,
    idempotency_key: str,
    actor: User | None = None,
) -> Refund:
    """Give back `amount` of a paid intent; never more than paid minus refunded; the same key refunds once."""
    key = idempotency_key_parse(idempotency_key)
    money = amount_parse(amount)
    cleaned_reason = text_parse(reason, field="reason", max_length=200)
    existing = Refund.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _same_refund(existing, intent=intent, amount_fen=money.amount)
    try:
        with transaction.atomic():
            refund = _refund_open(intent=intent, money=money, reason=cleaned_reason, key=key, actor=actor)
    except IntegrityError:
        existing = Refund.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return _same_refund(existing, intent=intent, amount_fen=money.amount)
    return refund


def _refund_open(*, intent: PaymentIntent, money: Money, reason: str, key: str, actor: Any) -> Refund:
    # The intent row is locked before the check, so two refunds are judged one after the other.
    locked = PaymentIntent.objects.select_for_update().get(pk=intent.pk)
    if locked.status != IntentStatus.SUCCEEDED:
        raise DomainError(
            PaymentErrorCode.NOT_REFUNDABLE,
            _("Only a payment that was made can be refunded."),
            status=409,
            details={"status": locked.status},
        )
    if money.currency != locked.currency or money.amount > locked.refundable_fen:
        raise DomainError(
            PaymentErrorCode.REFUND_EXCEEDS_PAID,
            _("A refund cannot exceed what was paid and not yet refunded."),
            status=409,
            details={"refundable": {"amount": locked.refundable_fen, "currency": locked.currency}},
        )
    moment = now()
    refund = Refund.objects.create(
        public_id=public_id("rfd"),
        out_refund_no="FR" + random_code(22),
        idempotency_key=key,
        intent=locked,
        amount_fen=money.amount,
        currency=money.currency,
        reason=reason,
        actor=actor if getattr(actor, "pk", None) else None,
        created_at=moment,
        updated_at=moment,
    )
    # Reserve the amount at once (the CheckConstraint refuses a reservation beyond what was paid).
    PaymentIntent.objects.filter(pk=locked.pk).update(refunding_fen=F("refunding_fen") + money.amount)
    if locked.provider in LOCAL_PROVIDERS:
        # No gateway to wait for: the "provider" answers at once and without I/O.
        result = provider_get(locked.provider).refund(
            locked, out_refund_no=refund.out_refund_no, amount_fen=refund.amount_fen, reason=reason
        )
        return _settle_locked(intent=locked, refund=refund, result=result)
    refund_id = refund.public_id
    transaction.on_commit(lambda: _submit_later(refund_id))
    return refund


def _submit_later(refund_public_id: str) -> None:
    from forecourt.payments.tasks import refund_submit

    try:
        refund_submit.enqueue(refund_public_id)
    except Exception:
        # The refund is reserved and pending; the sweeper submits it.
        logger.exception("could not enqueue refund", extra=log_context(refund=refund_public_id))


def payment_refund_submit(*, refund: Refund) -> Refund:
    """Ask the gateway to carry out a pending refund (safe to repeat), then settle it with the answer."""
    refund = Refund.objects.select_related("intent").get(pk=refund.pk)
    if refund.status != RefundStatus.PENDING:
        return refund
    try:
        result = provider_get(refund.intent.provider).refund(
            refund.intent,
            out_refund_no=refund.out_refund_no,
            amount_fen=refund.amount_fen,
            reason=refund.reason,
        )
    except Exception:
        logger.exception("refund call failed", extra=log_context(refund=refund.public_id))
        return refund
    return payment_refund_settle(refund=refund, result=result)


def payment_refund_settle(*, refund: Refund, result: RefundResult) -> Refund:
    """Apply the gateway's answer to a pending refund: succeeded, failed, or still pending. Once."""
    with transaction.atomic():
        # Intent first, then refund: the same order as payment_refund, so the two never deadlock.
        locked_intent = PaymentIntent.objects.select_for_update().get(pk=refund.intent_id)
        locked = Refund.objects.select_for_update().get(pk=refund.pk)
        if locked.status != RefundStatus.PENDING:
            return locked
        return _settle_locked(intent=locked_intent, refund=locked, result=result)


def _settle_locked(*, intent: PaymentIntent, refund: Refund, result: RefundResult) -> Refund:
    moment = now()
    refund.provider_refund_id = (result.provider_refund_id or refund.provider_refund_id)[:64]
    refund.message = (result.message or "")[:200]
    refund.updated_at = moment
    if result.status == RefundStatus.SUCCEEDED:
        PaymentIntent.objects.filter(pk=intent.pk).update(
            refunding_fen=F("refunding_fen") - refund.amount_fen,
            refunded_fen=F("refunded_fen") + refund.amount_fen,
            updated_at=moment,
        )
        refund.status = RefundStatus.SUCCEEDED
        refund.succeeded_at = moment
        refund.save(update_fields=["status", "succeeded_at", "provider_refund_id", "message", "updated_at"])
        intent.refresh_from_db()
        ledger_refund_record(intent=intent, refund=refund)
        event_record(
            "payment.refunded",
            subject_type=SUBJECT_TYPE,
            subject_id=intent.public_id,
            actor=refund.actor,
            payload={
                "refund": refund.public_id,
                "intent": intent.public_id,
                "purpose": intent.purpose,
                "reference": intent.reference,
                "amount_fen": refund.amount_fen,
                "currency": refund.currency,
            },
        )
    elif result.status == RefundStatus.FAILED:
        PaymentIntent.objects.filter(pk=intent.pk).update(
            refunding_fen=F("refunding_fen") - refund.amount_fen, updated_at=moment
        )
        refund.status = RefundStatus.FAILED
        refund.save(update_fields=["status", "provider_refund_id", "message", "updated_at"])
        event_record(
            "payment.refund_failed",
            subject_type=SUBJECT_TYPE,
            subject_id=intent.public_id,
            payload={
                "refund": refund.public_id,
                "intent": intent.public_id,
                "purpose": intent.purpose,
                "reference": intent.reference,
                "amount_fen": refund.amount_fen,
                "message": refund.message,
            },
        )
    else:
        refund.save(update_fields=["provider_refund_id", "message", "updated_at"])
    return refund


def refunds_resubmit_pending(*, limit: int = 100) -> int:
    """Sweeper: ask again about gateway refunds still pending a while after they were opened."""
    stale = Refund.objects.filter(
        status=RefundStatus.PENDING, updated_at__lte=now() - RESUBMIT_AFTER
    ).exclude(intent__provider__in=LOCAL_PROVIDERS)
    count = 0
    for refund in stale.order_by("created_at")[:limit]:
        payment_refund_submit(refund=refund)
        count += 1
    return count
