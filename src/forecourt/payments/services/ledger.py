"""The double-entry ledger: every money movement is one group of legs that sums to zero, written once."""

from __future__ import annotations

from forecourt.core.clock import now
from forecourt.payments.models import LedgerEntry, LedgerKind, PaymentIntent, Refund


def gateway_account(provider: str) -> str:
    """Money held for us by a gateway (or, for "offline", in a store's till)."""
    return f"gateway:{provider}"


def customer_funds_account(purpose: str) -> str:
    """What we owe customers (goods or their money back) for payments of one purpose."""
    return f"customer_funds:{purpose}"


def payment_group(intent: PaymentIntent) -> str:
    return f"payment:{intent.out_trade_no}"


def refund_group(refund: Refund) -> str:
    return f"refund:{refund.out_refund_no}"


def ledger_movement_record(
    *, group: str, kind: str, intent: PaymentIntent, legs: list[tuple[str, int]], refund: Refund | None = None
) -> list[LedgerEntry]:
    """Write one movement in the caller's transaction; the unique (group, account) makes a rewrite fail."""
    if (
        len(legs) < 2
        or sum(amount for _account, amount in legs) != 0
        or any(not amount for _a, amount in legs)
    ):
        raise ValueError(f"a ledger movement needs two or more non-zero legs summing to zero: {legs!r}")
    moment = now()
    return LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                group=group,
                account=account,
                amount_fen=amount,
                currency=intent.currency,
                kind=kind,
                intent=intent,
                refund=refund,
                created_at=moment,
            )
            for account, amount in legs
        ]
    )


def ledger_payment_record(*, intent: PaymentIntent) -> list[LedgerEntry]:
    """Money received: the gateway now holds it, and we owe the customer what it was paid for."""
    return ledger_movement_record(
        group=payment_group(intent),
        kind=LedgerKind.PAYMENT,
        intent=intent,
        legs=[
            (gateway_account(intent.provider), intent.amount_fen),
            (customer_funds_account(intent.purpose), -intent.amount_fen),
        ],
    )


def ledger_refund_record(*, intent: PaymentIntent, refund: Refund) -> list[LedgerEntry]:
    """Money given back: the reverse of a payment, for the refund's amount."""
    return ledger_movement_record(
        group=refund_group(refund),
        kind=LedgerKind.REFUND,
        intent=intent,
        refund=refund,
        legs=[
            (gateway_account(intent.provider), -refund.amount_fen),
            (customer_funds_account(intent.purpose), refund.amount_fen),
        ],
    )
