"""Monthly statements and payouts.

`statement_issue` freezes one broker's month: the commission available by the month's end (or by now,
for the running month) that is on no statement yet, less the clawbacks of commission already stated
(statement_selectors.py explains the netting), tax withheld per China's 劳务报酬 rules (tax.py) and the
net. A statement is issued once per broker and month (a unique constraint; issuing again returns it).
`payout_record` records the transfer against an issued statement and marks its commission paid.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from forecourt.core.audit import audit_record
from forecourt.core.clock import now
from forecourt.core.errors import DomainError, field_error
from forecourt.core.events import event_record
from forecourt.referrals.access import ensure_ops
from forecourt.referrals.errors import ReferralErrorCode
from forecourt.referrals.models import (
    Broker,
    Commission,
    CommissionStatus,
    Payout,
    Statement,
    StatementStatus,
)
from forecourt.referrals.periods import month_bounds, month_first, month_label
from forecourt.referrals.services.commissions import commissions_move
from forecourt.referrals.statement_selectors import (
    clawback_filter,
    draft_split,
    earned_filter,
    statement_cutoff,
    statement_drafts_due,
)

REFERENCE_MAX_LENGTH = 64


def _payload(statement: Statement, broker: Broker) -> dict[str, Any]:
    return {
        "statement": statement.public_id,
        "broker": broker.user.public_id,
        "broker_code": broker.code,
        "month": month_label(statement.month),
        "gross_fen": statement.gross_fen,
        "tax_fen": statement.tax_fen,
        "net_fen": statement.net_fen,
    }


def _statement_recorded(name: str, statement: Statement, *, actor: Any, payload: dict[str, Any]) -> None:
    event_record(name, subject_type="statement", subject_id=statement.public_id, actor=actor, payload=payload)


def statement_issue(*, broker: Broker, month: date | datetime | str, actor: Any = None) -> Statement:
    """Issue `broker`'s statement for `month` (a date in it or "YYYY-MM"); issuing again returns it."""
    first = month_first(month)
    start, _end = month_bounds(first)
    moment = now()
    if start > moment:
        raise field_error(
            ReferralErrorCode.STATEMENT_MONTH_NOT_STARTED, "month", _("That month has not started yet.")
        )
    cutoff = statement_cutoff(first, at=moment)
    with transaction.atomic():
        # The broker's row lock serialises statements of one broker; the commission rows are locked
        # (in primary-key order, as every multi-row lock here) so a clawback or a decision waits.
        locked = Broker.objects.select_for_update().select_related("user").get(pk=broker.pk)
        existing = Statement.objects.filter(broker=locked, month=first).first()
        if existing is not None:
            return existing
        rows = list(
            Commission.objects.select_for_update()
            .filter(broker=locked)
            .filter(earned_filter(cutoff) | clawback_filter(cutoff))
            .order_by("pk")
        )
        draft = draft_split(broker=locked, month=first, rows=rows)
        statement = Statement.objects.create(
            broker=locked,
            month=first,
            gross_fen=draft.gross_fen,
            tax_fen=draft.tax_fen,
            net_fen=draft.net_fen,
            status=StatementStatus.ISSUED,
            issued_at=moment,
        )
        if draft.earned:
            earned = Commission.objects.filter(pk__in=[row.pk for row in draft.earned])
            # A pending commission whose holding period has ended is available: the statement says so.
            commissions_move(commissions=earned, to_status=CommissionStatus.AVAILABLE, at=moment)
            earned.update(statement=statement, updated_at=moment)
        if draft.netted:
            Commission.objects.filter(pk__in=[row.pk for row in draft.netted]).update(
                clawback_statement=statement, updated_at=moment
            )
        payload = _payload(statement, locked)
        payload.update(commissions=len(draft.earned), clawbacks=len(draft.netted))
        _statement_recorded("statement.issued", statement, actor=actor, payload=payload)
        if actor is not None:
            audit_record(
                actor=actor,
                action="statement.issued",
                object_type="statement",
                object_id=statement.public_id,
                details={"broker": locked.code, "month": month_label(first), "net_fen": statement.net_fen},
            )
    return statement


def statements_issue_for_month(*, month: date | datetime | str, actor: Any) -> list[Statement]:
    """Issue the statement of every broker with something to state for `month` (ops)."""
    ensure_ops(actor)
    first = month_first(month)
    issued = []
    for draft in statement_drafts_due(month=first):
        # One transaction per broker: one broker's trouble does not hold back everybody's statement.
        issued.append(statement_issue(broker=draft.broker, month=first, actor=actor))
    return issued


def _transfer_reference(reference: Any) -> str:
    """The bank transfer's reference, spaces tidied; 422 naming `reference` when empty or too long."""
    cleaned = " ".join(str(reference or "").split())
    if not cleaned:
        raise field_error(ReferralErrorCode.INVALID, "reference", _("Enter the transfer's reference."))
    if len(cleaned) > REFERENCE_MAX_LENGTH:
        raise field_error(
            ReferralErrorCode.INVALID,
            "reference",
            _("At most %(count)s characters.") % {"count": REFERENCE_MAX_LENGTH},
        )
    return cleaned


def payout_record(*, statement: Statement, reference: str, actor: Any) -> Payout:
    """Record the transfer paying `statement`'s net and mark its commission paid (ops; once)."""
    ensure_ops(actor)
    reference = _transfer_reference(reference)
    moment = now()
    with transaction.atomic():
        locked = (
            Statement.objects.select_for_update(of=("self",))
            .select_related("broker__user")
            .get(pk=statement.pk)
        )
        existing = Payout.objects.filter(statement=locked).first()
        if existing is not None:
            if existing.reference == reference:
                # The same transfer recorded twice (a double click, a retried request): the first stands.
                return existing
            raise DomainError(
                ReferralErrorCode.STATEMENT_ALREADY_PAID,
                _("This statement has already been paid (transfer %(reference)s).")
                % {"reference": existing.reference},
                status=409,
            )
        if locked.net_fen <= 0:
            raise DomainError(
                ReferralErrorCode.STATEMENT_NOTHING_TO_PAY,
                _("This statement has nothing to pay."),
                status=409,
            )
        payout = Payout.objects.create(
            statement=locked,
            amount_fen=locked.net_fen,
            reference=reference,
            paid_at=moment,
            recorded_by=actor,
        )
        locked.status = StatementStatus.PAID
        locked.save(update_fields=["status"])
        # Conditional: a commission clawed back after the statement was issued stays clawed back (the
        # next statement nets it).
        paid_count = commissions_move(
            commissions=Commission.objects.filter(statement=locked),
            to_status=CommissionStatus.PAID,
            at=moment,
        )
        payload = _payload(locked, locked.broker)
        payload.update(reference=reference, amount_fen=payout.amount_fen, commissions=paid_count)
        _statement_recorded("statement.paid", locked, actor=actor, payload=payload)
        audit_record(
            actor=actor,
            action="statement.paid",
            object_type="statement",
            object_id=locked.public_id,
            details={"reference": reference, "amount_fen": payout.amount_fen},
        )
    statement.status = locked.status
    return payout
