"""Paid coupons (pay ¥99 now, get ¥2,000 off the car): paying for one, its activation, and its refund.

`payments` knows nothing of offers: an intent carries the purpose "offers.voucher" and the voucher's code
as its reference, and `payment.succeeded` reaches `voucher_payment_credit` through the subscriber. The
voucher moves by conditional UPDATEs on its status, so a payment and the sweeper voiding an unpaid
coupon cannot both win: whichever loses is undone (a payment that finds its voucher void is refunded).
No path leaves a usable coupon whose money went back: a refund voids the voucher in the same
transaction that opens the refund, and a coupon applied to an order or written off is not refundable.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from forecourt.accounts.models import Role, User
from forecourt.core import clock
from forecourt.core.errors import CoreErrorCode, DomainError, NotFound
from forecourt.core.events import event_record
from forecourt.core.logging import log_context
from forecourt.core.money import Money
from forecourt.offers.errors import OfferErrorCode, field_error
from forecourt.offers.models import CouponKind, Voucher, VoucherStatus
from forecourt.offers.services.claims import SUBJECT_TYPE, budget_give_back, payment_deadline
from forecourt.payments import selectors as payment_selectors
from forecourt.payments import services as payment_services

logger = logging.getLogger(__name__)

PURPOSE = "offers.voucher"
CURRENCY = "CNY"


def _holder_only(voucher: Voucher, actor: Any) -> None:
    # Someone else's voucher is answered exactly like an unknown one.
    if getattr(actor, "pk", None) != voucher.holder_id:
        raise NotFound(_("No such voucher."))


def voucher_pay_start(
    *, voucher: Voucher, provider: str, return_url: str, actor: User, channel: str = ""
) -> payment_services.PaymentStart:
    """Start paying a paid coupon awaiting payment; returns the provider's PaymentStart."""
    _holder_only(voucher, actor)
    if provider not in payment_selectors.ONLINE_PROVIDERS:
        raise field_error(
            CoreErrorCode.INVALID,
            "provider",
            _("Choose one of: %(allowed)s.") % {"allowed": ", ".join(payment_selectors.ONLINE_PROVIDERS)},
        )
    voucher = Voucher.objects.get(pk=voucher.pk)
    if voucher.status != VoucherStatus.PENDING_PAYMENT:
        raise DomainError(
            OfferErrorCode.VOUCHER_NOT_USABLE,
            _("This coupon is not awaiting payment."),
            status=409,
            details={"status": voucher.status},
        )
    if payment_deadline(voucher) <= clock.now() or voucher.valid_until <= clock.now():
        raise DomainError(
            OfferErrorCode.VOUCHER_EXPIRED,
            _("The time to pay for this coupon has run out. Claim it again if any are left."),
            status=409,
        )
    existing = payment_selectors.payment_intents_for(reference=voucher.code, purpose=PURPOSE)
    reusable = next(
        (
            intent
            for intent in existing
            if intent.status == "created"
            and intent.provider == provider
            and (intent.channel == channel or not channel)
            and intent.amount_fen == voucher.price_fen
            and intent.expires_at > clock.now()
        ),
        None,
    )
    intent = reusable or payment_services.payment_intent_create(
        purpose=PURPOSE,
        reference=voucher.code,
        amount=Money(voucher.price_fen, CURRENCY),
        payer=voucher.holder,
        provider=provider,
        channel=channel,
        description=f"{voucher.campaign.name} · {voucher.display_code}"[:127],
        # Retried clicks reuse one intent; a new attempt after a failed or closed one gets a new key.
        idempotency_key=f"offers-voucher:{voucher.code}:{provider}:{channel}:{len(existing)}",
    )
    return payment_services.payment_start(intent=intent, return_url=return_url)


def _refund_intent(*, intent: str, amount_fen: int, currency: str, reason: str) -> None:
    payment_services.payment_refund(
        intent=payment_selectors.payment_intent_get(public_id=intent),
        amount=Money(amount_fen, currency),
        reason=reason,
        idempotency_key=f"offers-voucher-payment-back:{intent}",
    )


def voucher_payment_credit(
    *, intent: str, reference: str, amount_fen: int, currency: str = CURRENCY, paid_at: datetime | None = None
) -> Voucher | None:
    """A paid coupon's payment succeeded: activate it exactly once; money nobody owes is sent back."""
    voucher = Voucher.objects.filter(code=str(reference)[:20]).first()
    if voucher is None:
        logger.warning(
            "payment for an unknown voucher", extra=log_context(intent=intent, reference=reference)
        )
        return None
    with transaction.atomic():
        voucher = Voucher.objects.select_for_update().get(pk=voucher.pk)
        if voucher.payment_intent == intent and voucher.paid_at is not None:
            return voucher  # this payment was credited already
        moment = clock.now()
        fits = amount_fen == voucher.price_fen and currency == CURRENCY
        activated = fits and bool(
            Voucher.objects.filter(pk=voucher.pk, status=VoucherStatus.PENDING_PAYMENT).update(
                status=VoucherStatus.ACTIVE,
                paid_at=paid_at or moment,
                payment_intent=intent,
                updated_at=moment,
            )
        )
        if activated:
            voucher.refresh_from_db()
            event_record(
                "voucher.paid",
                subject_type=SUBJECT_TYPE,
                subject_id=voucher.code,
                actor=voucher.holder,
                payload={"intent": intent, "amount_fen": amount_fen, "campaign": voucher.campaign.public_id},
            )
            return voucher
        # Voided for non-payment, paid twice, or the wrong amount: the money goes back, the coupon stays.
        _refund_intent(
            intent=intent,
            amount_fen=amount_fen,
            currency=currency,
            reason="voucher not awaiting this payment",
        )
        event_record(
            "voucher.payment_returned",
            subject_type=SUBJECT_TYPE,
            subject_id=voucher.code,
            payload={"intent": intent, "amount_fen": amount_fen, "status": voucher.status},
        )
    return voucher


def not_refundable(message: str, status: str) -> DomainError:
    return DomainError(OfferErrorCode.NOT_REFUNDABLE, message, status=409, details={"status": status})


def voucher_refund(*, voucher: Voucher, actor: User) -> Voucher:
    """Refund an unused paid coupon: it is voided and its price refunded in one transaction."""
    if getattr(actor, "role", None) != Role.OPS:
        _holder_only(voucher, actor)
    with transaction.atomic():
        locked = Voucher.objects.select_for_update().select_related("campaign").get(pk=voucher.pk)
        if locked.kind != CouponKind.PAID_MULTIPLIER or locked.paid_at is None or not locked.payment_intent:
            raise not_refundable(_("Only a paid coupon that was paid for can be refunded."), locked.status)
        # Applied to an order or written off, its value is in use: refunding it would give it twice.
        if locked.status not in (VoucherStatus.ACTIVE, VoucherStatus.EXPIRED):
            raise not_refundable(
                _("This coupon has been applied to an order or used, so it can no longer be refunded."),
                locked.status,
            )
        moment = clock.now()
        Voucher.objects.filter(pk=locked.pk).update(
            status=VoucherStatus.REFUNDED, voided_at=moment, void_reason="refunded", updated_at=moment
        )
        budget_give_back(
            campaign_id=locked.campaign_id, holder_id=locked.holder_id, value_fen=locked.budget_fen
        )
        event_record(
            "voucher.refunded",
            subject_type=SUBJECT_TYPE,
            subject_id=locked.code,
            actor=actor,
            payload={"intent": locked.payment_intent, "amount_fen": locked.price_fen},
        )
        payment_services.payment_refund(
            intent=payment_selectors.payment_intent_get(public_id=locked.payment_intent),
            amount=Money(locked.price_fen, CURRENCY),
            reason="paid coupon refunded",
            idempotency_key=f"offers-voucher-refund:{locked.code}",
            actor=actor,
        )
    locked.refresh_from_db()
    return locked
