"""Orders against payments: what each order says it received and refunded against the intents and refunds
payments holds for it. Read-only; `forecourt reconcile` prints what this finds."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from forecourt.orders.models import PURPOSE_PREFIX, Order, OrderPayment, OrderRefund
from forecourt.payments import selectors as payment_selectors


@dataclass(frozen=True)
class OrderDiscrepancy:
    kind: str
    subject: str
    detail: str


def orders_reconcile(*, batch: int = 500) -> Iterator[OrderDiscrepancy]:
    """Each disagreement between an order's money and the payments recorded for it."""
    last_pk = 0
    while True:
        orders = list(Order.objects.filter(pk__gt=last_pk).order_by("pk")[:batch])
        if not orders:
            return
        last_pk = orders[-1].pk
        payments: dict[int, list[OrderPayment]] = defaultdict(list)
        for payment in OrderPayment.objects.filter(order__in=orders):
            payments[payment.order_id].append(payment)
        applied: dict[int, int] = defaultdict(int)
        for order_id, amount in OrderRefund.objects.filter(order__in=orders).values_list(
            "order_id", "applied_fen"
        ):
            applied[order_id] += amount
        for order in orders:
            yield from _order_discrepancies(order, payments[order.pk], applied[order.pk])


def _order_discrepancies(
    order: Order, payments: list[OrderPayment], refunds_applied: int
) -> Iterator[OrderDiscrepancy]:
    number = order.number
    credited = sum(payment.credited_fen for payment in payments)
    if order.paid_fen != credited:
        yield OrderDiscrepancy(
            "order_paid_mismatch", number, f"paid_fen={order.paid_fen} credited={credited}"
        )
    refunded = sum(payment.order_refunded_fen for payment in payments)
    if order.refunded_fen != refunded or order.refunded_fen != refunds_applied:
        yield OrderDiscrepancy(
            "order_refunded_mismatch",
            number,
            f"refunded_fen={order.refunded_fen} from_payments={refunded} applied={refunds_applied}",
        )
    by_intent = {payment.intent: payment for payment in payments}
    intents = [
        intent
        for intent in payment_selectors.payment_intents_for(reference=number)
        if intent.purpose.startswith(PURPOSE_PREFIX)
    ]
    seen = set()
    for intent in intents:
        seen.add(intent.public_id)
        payment = by_intent.get(intent.public_id)
        if intent.status == "succeeded":
            if payment is None:
                yield OrderDiscrepancy(
                    "payment_not_credited", number, f"intent {intent.public_id} paid {intent.amount_fen}"
                )
                continue
            if payment.amount_fen != intent.amount_fen:
                yield OrderDiscrepancy(
                    "payment_amount_mismatch",
                    number,
                    f"intent {intent.public_id} paid {intent.amount_fen}, order took {payment.amount_fen}",
                )
            if payment.refunded_fen != intent.refunded_fen:
                yield OrderDiscrepancy(
                    "refund_mismatch",
                    number,
                    f"intent {intent.public_id} refunded {intent.refunded_fen}, "
                    f"order saw {payment.refunded_fen}",
                )
        elif payment is not None:
            yield OrderDiscrepancy(
                "credited_without_payment", number, f"intent {intent.public_id} is {intent.status}"
            )
    for payment in payments:
        if payment.intent not in seen:
            yield OrderDiscrepancy("credited_unknown_intent", number, f"intent {payment.intent} not found")
