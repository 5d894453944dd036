"""Money for an order: starting a payment for what is due now, crediting what arrives (once), sending back
what the order does not owe, applying refunds, and final payment taken in store.

`payments` knows nothing of orders: an intent carries a purpose ("order.<stage>") and a reference (the
order number). Credits arrive through the `payment.succeeded` subscriber, or directly from
`order_final_payment_confirm`; both call `order_payment_credit`, which is idempotent per intent.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.logging import log_context
from forecourt.core.money import Money
from forecourt.orders.access import ensure_buyer, ensure_staff_of_order_dealer
from forecourt.orders.errors import OrderErrorCode, field_error
from forecourt.orders.models import (
    CLOSED_STATUSES,
    PURPOSE_PREFIX,
    CancelReason,
    EditionHold,
    Order,
    OrderPayment,
    OrderRefund,
    OrderStatus,
    PaymentStage,
)
from forecourt.orders.selectors import order_due
from forecourt.orders.services.holds import hold_confirm, hold_renew
from forecourt.orders.services.transitions import (
    order_advance_by_money,
    order_event,
    order_lock_row,
    order_settle_lock,
    order_transition,
)
from forecourt.payments import selectors as payment_selectors
from forecourt.payments import services as payment_services

logger = logging.getLogger(__name__)


def purpose_for(stage: str) -> str:
    return PURPOSE_PREFIX + stage


def _description(order: Order, stage: str) -> str:
    label = PaymentStage(stage).label
    return f"{order.trim.model.name} {order.trim.name} · {label} · {order.number}"[:127]


def order_pay_start(
    *, order: Order, stage: str, provider: str, channel: str = "", return_url: str, actor: Any
) -> Any:
    """Start paying exactly what is due now at `stage`; returns the provider's PaymentStart."""
    ensure_buyer(actor, order)
    if stage not in PaymentStage.values:
        raise field_error(
            OrderErrorCode.WRONG_STAGE,
            "stage",
            _("Choose one of: %(allowed)s.") % {"allowed": ", ".join(PaymentStage.values)},
        )
    if provider not in payment_selectors.ONLINE_PROVIDERS:
        raise field_error(
            OrderErrorCode.UNKNOWN_PROVIDER,
            "provider",
            _("Choose one of: %(allowed)s.") % {"allowed": ", ".join(payment_selectors.ONLINE_PROVIDERS)},
        )
    due = order_due(order)
    if order.status in CLOSED_STATUSES or due is None:
        raise DomainError(OrderErrorCode.NOTHING_DUE, _("Nothing is due on this order now."), status=409)
    if due.stage != stage:
        raise DomainError(
            OrderErrorCode.WRONG_STAGE,
            _("The payment due now is the %(stage)s.") % {"stage": PaymentStage(due.stage).label},
            status=409,
            details={"due": due.stage},
        )
    if order.edition_id is not None and stage == PaymentStage.INTENTION:
        hold = EditionHold.objects.filter(order=order).select_related("order").first()
        if hold is not None and hold.is_expired():
            # The buyer came back after the reservation ran out: take a unit again if one is free.
            hold_renew(hold=hold, minutes=order.edition.hold_minutes if order.edition else 15)
    purpose = purpose_for(stage)
    existing = payment_selectors.payment_intents_for(reference=order.number, purpose=purpose)
    reusable = next(
        (
            intent
            for intent in existing
            if intent.status == "created"
            and intent.provider == provider
            and (intent.channel == channel or not channel)
            and intent.amount_fen == due.amount.amount
        ),
        None,
    )
    intent = reusable or payment_services.payment_intent_create(
        purpose=purpose,
        reference=order.number,
        amount=due.amount,
        payer=order.buyer,
        provider=provider,
        channel=channel,
        description=_description(order, stage),
        # Retried clicks reuse one intent; a new attempt after a failed or closed one gets a new key.
        idempotency_key=f"order:{order.number}:{stage}:{order.paid_fen}:{provider}:{channel}:{len(existing)}",
    )
    return payment_services.payment_start(intent=intent, return_url=return_url)


def _credit_room(order: Order, stage: str, currency: str) -> int:
    """How much of a payment for `stage` the order can take: never beyond the stage or the total."""
    if order.status in CLOSED_STATUSES or currency != order.currency or stage not in PaymentStage.values:
        return 0
    target = min(order.stage_target_fen(stage), order.total_fen)
    return max(0, target - order.paid_fen)


def _confirm_edition_unit(order: Order) -> Order:
    """A first payment on a limited-edition order turns its hold into a sale, or cancels the order."""
    hold = EditionHold.objects.filter(order=order).first()
    if hold is None or order.status in CLOSED_STATUSES or hold_confirm(hold=hold):
        return order
    return order_transition(
        order=order,
        to_status=OrderStatus.CANCELLED,
        reason="payment arrived after the reservation expired; sold out",
        cancel_reason=CancelReason.SOLD_OUT,
    )


def order_payment_credit(
    *,
    intent: str,
    purpose: str,
    reference: str,
    amount_fen: int,
    currency: str = "CNY",
    provider: str = "",
) -> OrderPayment | None:
    """Credit a succeeded payment to its order, once per intent; refund at once whatever is not owed."""
    if not purpose.startswith(PURPOSE_PREFIX):
        return None
    order = Order.objects.filter(number=reference).first()
    if order is None:
        logger.warning("payment for an unknown order", extra=log_context(intent=intent, reference=reference))
        return None
    stage = purpose.removeprefix(PURPOSE_PREFIX)
    with transaction.atomic():
        order = order_lock_row(order)
        existing = OrderPayment.objects.filter(intent=intent).first()
        if existing is not None:
            return existing
        if order.edition_id is not None and order.paid_fen == 0:
            order = _confirm_edition_unit(order)
        credited = min(amount_fen, _credit_room(order, stage, currency))
        excess = amount_fen - credited
        payment = OrderPayment.objects.create(
            order=order,
            intent=intent,
            purpose=purpose,
            provider=provider,
            amount_fen=amount_fen,
            credited_fen=credited,
            excess_fen=excess,
            at=clock.now(),
        )
        if credited:
            Order.objects.filter(pk=order.pk).update(
                paid_fen=F("paid_fen") + credited, updated_at=clock.now()
            )
            order.refresh_from_db()
        order_event(
            "order.payment_credited",
            order,
            intent=intent,
            purpose=purpose,
            amount_fen=amount_fen,
            credited_fen=credited,
            excess_fen=excess,
            paid_fen=order.paid_fen,
        )
        order = order_advance_by_money(order)
        if excess:
            # Paid twice (two gateways), paid after cancelling, or more than the stage owes: send it back.
            payment_services.payment_refund(
                intent=payment_selectors.payment_intent_get(public_id=intent),
                amount=Money(excess, currency),
                reason="excess",
                idempotency_key=f"order-excess:{intent}",
            )
    return payment


def order_refund_apply(*, refund: str, intent: str, amount_fen: int) -> OrderRefund | None:
    """Apply a refund payments confirmed: excess first, the rest counts against the order, once."""
    payment = OrderPayment.objects.filter(intent=intent).first()
    if payment is None:
        logger.warning("refund of a payment no order took", extra=log_context(intent=intent, refund=refund))
        return None
    with transaction.atomic():
        order = order_lock_row(payment.order_id)
        existing = OrderRefund.objects.filter(refund=refund).first()
        if existing is not None:
            return existing
        payment = OrderPayment.objects.select_for_update().get(pk=payment.pk)
        before = payment.order_refunded_fen
        payment.refunded_fen += amount_fen
        payment.save(update_fields=["refunded_fen"])
        applied = payment.order_refunded_fen - before
        record = OrderRefund.objects.create(
            order=order,
            payment=payment,
            refund=refund,
            amount_fen=amount_fen,
            applied_fen=applied,
            at=clock.now(),
        )
        if applied:
            Order.objects.filter(pk=order.pk).update(
                refunded_fen=F("refunded_fen") + applied, updated_at=clock.now()
            )
            order.refresh_from_db()
        order_event(
            "order.refunded",
            order,
            refund=refund,
            intent=intent,
            amount_fen=amount_fen,
            applied_fen=applied,
            refunded_fen=order.refunded_fen,
        )
    return record


def order_final_payment_confirm(*, order: Order, actor: Any, receipt_number: str) -> Order:
    """Dealer staff confirm the final payment was received in store (recorded, then credited)."""
    ensure_staff_of_order_dealer(actor, order)
    receipt = receipt_number.strip() if isinstance(receipt_number, str) else ""
    if not receipt or len(receipt) > 64:
        raise field_error(
            OrderErrorCode.INVALID_AMOUNT, "receipt_number", _("Enter the till receipt number.")
        )
    with transaction.atomic():
        locked = order_settle_lock(order_lock_row(order), actor=actor)
        due = order_due(locked)
        if due is None or due.stage != PaymentStage.FINAL:
            raise DomainError(
                OrderErrorCode.NOTHING_DUE,
                _("The final payment is due once a car is allocated, and only once."),
                status=409,
            )
        intent = payment_services.payment_offline_record(
            purpose=purpose_for(PaymentStage.FINAL),
            reference=locked.number,
            amount=due.amount,
            payer=locked.buyer,
            actor=actor,
            receipt_number=receipt,
            idempotency_key=f"order-final-offline:{locked.number}:{receipt}",
        )
        order_payment_credit(
            intent=intent.public_id,
            purpose=intent.purpose,
            reference=locked.number,
            amount_fen=intent.amount_fen,
            currency=intent.currency,
            provider=intent.provider,
        )
        locked.refresh_from_db()
    return locked
