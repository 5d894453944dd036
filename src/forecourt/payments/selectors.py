"""Reads of the payments app: intents by id or reference, refunds, ledger balances, reconciliation, and
what a `payment.succeeded` / `payment.failed` event says (`payment_event_read`, for the apps that react)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from forecourt.core.errors import NotFound
from forecourt.core.models import Event
from forecourt.payments.models import (
    IntentStatus,
    LedgerEntry,
    LedgerKind,
    NotificationResult,
    PaymentIntent,
    PaymentNotification,
    Provider,
    Refund,
    RefundStatus,
)
from forecourt.payments.providers import PROVIDER_PATHS, provider_get


@dataclass(frozen=True)
class PaymentEventFacts:
    """What payments recorded in a `payment.succeeded` or `payment.failed` event (`amount_fen` 0 and
    `paid_at` None on a failure)."""

    intent: str
    purpose: str
    reference: str
    amount_fen: int
    currency: str
    provider: str
    paid_at: datetime | None


def payment_event_read(event: Event) -> PaymentEventFacts:
    """The facts of a payment event, as the app whose purpose it names reads them to credit or cancel."""
    payload: dict[str, Any] = event.payload if isinstance(event.payload, dict) else {}
    paid_at = payload.get("paid_at")
    return PaymentEventFacts(
        intent=str(payload.get("intent") or event.subject_id),
        purpose=str(payload.get("purpose", "")),
        reference=str(payload.get("reference", "")),
        amount_fen=int(payload.get("amount_fen", 0)),
        currency=str(payload.get("currency", "CNY")),
        provider=str(payload.get("provider", "")),
        paid_at=datetime.fromisoformat(paid_at) if isinstance(paid_at, str) else None,
    )


# The providers a buyer pays through online (the offline provider is a till receipt entered by staff).
ONLINE_PROVIDERS: tuple[str, ...] = ("sandbox", "alipay", "wechatpay")


def payment_providers_available() -> list[str]:
    """The providers that can take money here now: the sandbox when enabled, a gateway once configured."""
    return [name for name in PROVIDER_PATHS if provider_get(name).is_configured()]


def online_providers_available() -> list[str]:
    """The online providers a buyer can pay through here now, in the order pages offer them."""
    return [name for name in ONLINE_PROVIDERS if provider_get(name).is_configured()]


def payment_intent_get(*, public_id: str) -> PaymentIntent:
    """The intent with this public id; NotFound (404) otherwise."""
    intent = PaymentIntent.objects.filter(public_id=str(public_id)[:32]).first()
    if intent is None:
        raise NotFound(_("No such payment."))
    return intent


def payment_intent_for_trade(*, provider: str, out_trade_no: str) -> PaymentIntent:
    """The intent a gateway knows by its merchant order number; NotFound otherwise."""
    intent = PaymentIntent.objects.filter(provider=provider, out_trade_no=str(out_trade_no)[:32]).first()
    if intent is None:
        raise NotFound(_("No such payment."))
    return intent


def payment_intents_for(*, reference: str, purpose: str | None = None) -> list[PaymentIntent]:
    """Every intent for a reference (e.g. an order number), oldest first; optionally of one purpose."""
    intents = PaymentIntent.objects.filter(reference=reference)
    if purpose is not None:
        intents = intents.filter(purpose=purpose)
    return list(intents.order_by("created_at", "pk"))


def refunds_for(*, intent: PaymentIntent) -> list[Refund]:
    return list(Refund.objects.filter(intent=intent).order_by("created_at", "pk"))


def refund_get(*, public_id: str) -> Refund:
    refund = Refund.objects.select_related("intent").filter(public_id=str(public_id)[:32]).first()
    if refund is None:
        raise NotFound(_("No such refund."))
    return refund


def ledger_balances() -> dict[str, int]:
    """Each ledger account's balance in fen (debits positive)."""
    rows = LedgerEntry.objects.values("account").annotate(balance=Sum("amount_fen")).order_by("account")
    return {row["account"]: int(row["balance"]) for row in rows}


@dataclass(frozen=True)
class Discrepancy:
    """One thing the notifications, intents, refunds and ledger disagree about."""

    kind: str  # e.g. "succeeded_without_notification", "ledger_unbalanced"
    subject: str  # an intent or refund public id, or a ledger group
    detail: str


def payments_reconcile() -> list[Discrepancy]:
    """Compare notifications, intents, refunds and the ledger; an empty list means they all agree."""
    found: list[Discrepancy] = []
    succeeded = PaymentIntent.objects.filter(status=IntentStatus.SUCCEEDED)
    accepted = PaymentNotification.objects.filter(outcome=NotificationResult.ACCEPTED, status="succeeded")

    # Money recorded as received with no gateway's word for it (store payments carry a receipt instead).
    for public_id in (
        succeeded.exclude(provider=Provider.OFFLINE)
        .exclude(pk__in=accepted.filter(intent__isnull=False).values("intent_id"))
        .values_list("public_id", flat=True)
    ):
        found.append(
            Discrepancy("succeeded_without_notification", public_id, "no accepted success notification")
        )
    for public_id in succeeded.filter(provider=Provider.OFFLINE, receipt_number="").values_list(
        "public_id", flat=True
    ):
        found.append(Discrepancy("succeeded_without_receipt", public_id, "store payment without a receipt"))

    # The gateway said paid, we did not credit.
    for notification in accepted.exclude(intent__status=IntentStatus.SUCCEEDED).select_related("intent"):
        subject = notification.intent.public_id if notification.intent else notification.out_trade_no
        found.append(
            Discrepancy("notification_not_credited", subject, f"notification {notification.notification_id}")
        )

    # Each intent's payment movement: present exactly when it succeeded, for its amount.
    payment_legs = (
        LedgerEntry.objects.filter(kind=LedgerKind.PAYMENT)
        .values("intent_id")
        .annotate(debit=Sum("amount_fen", filter=Q(amount_fen__gt=0)), groups=Count("group", distinct=True))
    )
    debits = {row["intent_id"]: (int(row["debit"] or 0), row["groups"]) for row in payment_legs}
    for intent in succeeded.only("pk", "public_id", "amount_fen"):
        debit, groups = debits.pop(intent.pk, (0, 0))
        if groups == 0:
            found.append(Discrepancy("succeeded_without_ledger", intent.public_id, "no payment movement"))
        elif debit != intent.amount_fen or groups != 1:
            found.append(
                Discrepancy(
                    "ledger_amount_mismatch",
                    intent.public_id,
                    f"ledger {debit} fen in {groups} movement(s), intent {intent.amount_fen} fen",
                )
            )
    for intent_pk, (debit, _groups) in debits.items():
        unpaid = PaymentIntent.objects.filter(pk=intent_pk).values_list("public_id", flat=True).first()
        found.append(Discrepancy("ledger_without_payment", str(unpaid), f"{debit} fen for an unpaid intent"))

    # Every movement sums to zero.
    for group, total in (
        LedgerEntry.objects.values_list("group")
        .annotate(total=Sum("amount_fen"))
        .exclude(total=0)
        .order_by("group")
    ):
        found.append(Discrepancy("ledger_unbalanced", group, f"sums to {total} fen"))

    # What an intent says is refunded (or in progress) against its refunds, and each refund's movement.
    refund_sums: dict[int, dict[str, int]] = defaultdict(lambda: {"succeeded": 0, "pending": 0})
    for intent_id, status, refund_total in (
        Refund.objects.filter(status__in=[RefundStatus.SUCCEEDED, RefundStatus.PENDING])
        .values_list("intent_id", "status")
        .annotate(total=Sum("amount_fen"))
    ):
        refund_sums[intent_id][status] = int(refund_total)
    for intent in PaymentIntent.objects.filter(
        Q(refunded_fen__gt=0) | Q(refunding_fen__gt=0) | Q(pk__in=list(refund_sums))
    ).only("pk", "public_id", "refunded_fen", "refunding_fen"):
        sums = refund_sums.get(intent.pk, {"succeeded": 0, "pending": 0})
        if intent.refunded_fen != sums["succeeded"]:
            found.append(
                Discrepancy(
                    "refunded_mismatch",
                    intent.public_id,
                    f"intent says {intent.refunded_fen} fen, succeeded refunds {sums['succeeded']} fen",
                )
            )
        if intent.refunding_fen != sums["pending"]:
            found.append(
                Discrepancy(
                    "refunding_mismatch",
                    intent.public_id,
                    f"intent says {intent.refunding_fen} fen, pending refunds {sums['pending']} fen",
                )
            )
    refund_movements = LedgerEntry.objects.filter(kind=LedgerKind.REFUND).values("refund_id")
    for public_id in (
        Refund.objects.filter(status=RefundStatus.SUCCEEDED)
        .exclude(pk__in=refund_movements)
        .values_list("public_id", flat=True)
    ):
        found.append(Discrepancy("refund_without_ledger", public_id, "succeeded refund, no ledger movement"))
    for public_id in (
        Refund.objects.exclude(status=RefundStatus.SUCCEEDED)
        .filter(pk__in=refund_movements)
        .values_list("public_id", flat=True)
    ):
        found.append(Discrepancy("ledger_without_refund", public_id, "ledger movement for a refund not made"))
    return found
