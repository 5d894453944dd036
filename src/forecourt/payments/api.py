"""The payments API: a payer reads their payment's state; operations read the reconciliation.

- `router` at /api/v1/payments: `GET /{public_id}` (the payer, or operations).
- `ops_router` at /api/v1/ops/payments: `GET /reconcile` (operations only).
Paying and refunding happen through the apps that own the purpose (orders), not here.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from forecourt.accounts.auth import api_auth, request_user
from forecourt.accounts.models import Role, User
from forecourt.core.errors import CoreErrorCode, DomainError, NotFound
from forecourt.payments.models import PaymentIntent
from forecourt.payments.selectors import payment_intent_get, payments_reconcile

router = Router(tags=["payments"], auth=api_auth)
ops_router = Router(tags=["ops"], auth=api_auth)


class MoneyOut(Schema):
    amount: int
    currency: str


class PaymentOut(Schema):
    id: str
    purpose: str
    reference: str
    amount: MoneyOut
    refunded: MoneyOut
    provider: str
    channel: str
    status: str
    created_at: datetime
    paid_at: datetime | None
    expires_at: datetime


class DiscrepancyOut(Schema):
    kind: str
    subject: str
    detail: str


class ReconcileOut(Schema):
    balanced: bool
    discrepancies: list[DiscrepancyOut]


def _is_ops(user: User) -> bool:
    return user.role == Role.OPS or user.is_superuser


def payment_out(intent: PaymentIntent) -> PaymentOut:
    return PaymentOut(
        id=intent.public_id,
        purpose=intent.purpose,
        reference=intent.reference,
        amount=MoneyOut(amount=intent.amount_fen, currency=intent.currency),
        refunded=MoneyOut(amount=intent.refunded_fen, currency=intent.currency),
        provider=intent.provider,
        channel=intent.channel,
        status=intent.status,
        created_at=intent.created_at,
        paid_at=intent.paid_at,
        expires_at=intent.expires_at,
    )


@router.get("/{public_id}", response=PaymentOut, summary="A payment's state (its payer, or operations)")
def payment_detail(request: HttpRequest, public_id: str) -> PaymentOut:
    user = request_user(request)
    intent = payment_intent_get(public_id=public_id)
    # Someone else's payment is "not found", so its existence does not leak.
    if intent.payer_id != user.pk and not _is_ops(user):
        raise NotFound(_("No such payment."))
    return payment_out(intent)


@ops_router.get("/reconcile", response=ReconcileOut, summary="Notifications, payments, refunds and ledger")
def payments_reconcile_report(request: HttpRequest) -> ReconcileOut:
    user = request_user(request)
    if not _is_ops(user):
        raise DomainError(CoreErrorCode.FORBIDDEN, _("Only operations may see this."), status=403)
    found = payments_reconcile()
    return ReconcileOut(
        balanced=not found,
        discrepancies=[
            DiscrepancyOut(kind=item.kind, subject=item.subject, detail=item.detail) for item in found
        ],
    )
