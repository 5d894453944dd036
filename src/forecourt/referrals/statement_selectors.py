"""Reads for monthly statements: what a statement would hold, a broker's statements and their lines.

A statement takes every commission of the broker that is available by the month's end (or by now, for the
running month) and not yet on a statement, and nets the clawbacks of commission already on an earlier
statement (paid or about to be), oldest first, as long as the gross stays at or above zero; a clawback
that does not fit waits for a later statement. Tax is China's 劳务报酬 withholding on the gross (tax.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from forecourt.core.clock import now
from forecourt.core.errors import NotFound
from forecourt.core.money import Money
from forecourt.referrals.models import (
    Broker,
    Commission,
    CommissionStatus,
    Payout,
    Statement,
    StatementStatus,
)
from forecourt.referrals.periods import month_bounds
from forecourt.referrals.tax import tax_withheld_fen


def statement_cutoff(month: date, *, at: datetime | None = None) -> datetime:
    """Commission available before this moment belongs on `month`'s statement (its end, or now)."""
    _start, end = month_bounds(month)
    return min(end, at or now())


def earned_filter(cutoff: datetime) -> Q:
    """Commission not on a statement yet that is available by `cutoff` (a pending one whose holding
    period has ended reads as available, sweeper or not)."""
    return Q(
        statement__isnull=True,
        status__in=[CommissionStatus.AVAILABLE, CommissionStatus.PENDING],
        available_at__lt=cutoff,
    )


def clawback_filter(cutoff: datetime) -> Q:
    """Commission already on a statement, clawed back before `cutoff` and not netted yet."""
    return Q(
        status=CommissionStatus.CLAWED_BACK,
        statement__isnull=False,
        clawback_statement__isnull=True,
        clawed_back_at__lt=cutoff,
    )


@dataclass(frozen=True)
class StatementDraft:
    """What a statement holds: the commission it pays, the clawbacks it nets, and the sums."""

    broker: Broker
    month: date
    earned: list[Commission] = field(default_factory=list)
    netted: list[Commission] = field(default_factory=list)
    # Clawbacks that did not fit under this gross: a later statement nets them.
    carried: list[Commission] = field(default_factory=list)

    @property
    def earned_fen(self) -> int:
        return sum(commission.amount_fen for commission in self.earned)

    @property
    def netted_fen(self) -> int:
        return sum(commission.amount_fen for commission in self.netted)

    @property
    def gross_fen(self) -> int:
        return self.earned_fen - self.netted_fen

    @property
    def tax_fen(self) -> int:
        return tax_withheld_fen(self.gross_fen)

    @property
    def net_fen(self) -> int:
        return self.gross_fen - self.tax_fen

    @property
    def is_empty(self) -> bool:
        return not self.earned and not self.netted

    def money(self) -> dict[str, Money]:
        return {
            "earned": Money(self.earned_fen),
            "netted": Money(self.netted_fen),
            "gross": Money(self.gross_fen),
            "tax": Money(self.tax_fen),
            "net": Money(self.net_fen),
        }


def draft_from(
    *, broker: Broker, month: date, earned: list[Commission], clawbacks: list[Commission]
) -> StatementDraft:
    """Net `clawbacks` (oldest first) against `earned` while the gross stays ≥ 0 (pure)."""
    remaining = sum(commission.amount_fen for commission in earned)
    netted: list[Commission] = []
    carried: list[Commission] = []
    ordered = sorted(clawbacks, key=lambda item: (item.clawed_back_at or item.updated_at, item.pk))
    for index, commission in enumerate(ordered):
        if commission.amount_fen > remaining:
            # First in, first out: a later clawback never jumps ahead of an earlier one.
            carried = ordered[index:]
            break
        netted.append(commission)
        remaining -= commission.amount_fen
    return StatementDraft(broker=broker, month=month, earned=earned, netted=netted, carried=carried)


def statement_draft(*, broker: Broker, month: date, at: datetime | None = None) -> StatementDraft:
    """What `broker`'s statement for `month` would hold if issued now (no lock; for previews)."""
    cutoff = statement_cutoff(month, at=at)
    rows = list(
        Commission.objects.filter(broker=broker)
        .filter(earned_filter(cutoff) | clawback_filter(cutoff))
        .select_related("referral", "task")
        .order_by("pk")
    )
    return draft_split(broker=broker, month=month, rows=rows)


def draft_split(*, broker: Broker, month: date, rows: list[Commission]) -> StatementDraft:
    earned = [row for row in rows if row.statement_id is None]
    clawbacks = [row for row in rows if row.statement_id is not None]
    return draft_from(broker=broker, month=month, earned=earned, clawbacks=clawbacks)


def statement_drafts_due(*, month: date, at: datetime | None = None) -> list[StatementDraft]:
    """Every broker with something to state for `month` and no statement for it yet (ops' preview)."""
    cutoff = statement_cutoff(month, at=at)
    rows = list(
        Commission.objects.filter(earned_filter(cutoff) | clawback_filter(cutoff))
        .exclude(broker__statements__month=month)
        .select_related("broker__user", "broker__city", "referral", "task")
        .order_by("broker_id", "pk")
    )
    by_broker: dict[int, list[Commission]] = {}
    for row in rows:
        by_broker.setdefault(row.broker_id, []).append(row)
    drafts = [draft_split(broker=items[0].broker, month=month, rows=items) for items in by_broker.values()]
    return [draft for draft in drafts if not draft.is_empty]


def statements_of(broker: Broker) -> QuerySet[Statement]:
    return Statement.objects.filter(broker=broker).select_related("payout").order_by("-month")


def statements_for_month(month: date) -> QuerySet[Statement]:
    return (
        Statement.objects.filter(month=month)
        .select_related("broker__user", "broker__city", "payout")
        .order_by("status", "-net_fen", "pk")
    )


def statement_get(*, public_id: str, broker: Broker | None = None) -> Statement:
    """A statement by its public id; with `broker`, only that broker's own (404 otherwise, as unknown)."""
    queryset = Statement.objects.select_related("broker__user", "broker__city")
    if broker is not None:
        queryset = queryset.filter(broker=broker)
    statement = queryset.filter(public_id=str(public_id or "")[:32]).first()
    if statement is None:
        raise NotFound(_("No such statement."))
    return statement


def statement_payout(statement: Statement) -> Payout | None:
    """The payout recorded against the statement, if any."""
    try:
        return statement.payout
    except Payout.DoesNotExist:
        return None


@dataclass(frozen=True)
class StatementLine:
    """One line of a statement: a commission paid (positive) or a clawback netted (negative)."""

    commission: Commission
    amount_fen: int
    is_clawback: bool

    @property
    def amount(self) -> Money:
        return Money(self.amount_fen)

    @property
    def when(self) -> datetime | None:
        if self.is_clawback:
            return self.commission.clawed_back_at
        return self.commission.available_at

    @property
    def description(self) -> str:
        commission = self.commission
        if commission.task_id is not None and commission.task is not None:
            return _("Task: %(title)s") % {"title": commission.task.title}
        return str(commission.get_kind_display())


def statement_lines(statement: Statement) -> list[StatementLine]:
    """The statement's commission (oldest first), then the clawbacks it nets."""
    paid = [
        StatementLine(commission=commission, amount_fen=commission.amount_fen, is_clawback=False)
        for commission in statement.commissions.select_related("referral__person", "task").order_by(
            "available_at", "pk"
        )
    ]
    netted = [
        StatementLine(commission=commission, amount_fen=-commission.amount_fen, is_clawback=True)
        for commission in statement.clawbacks.select_related("referral__person", "task").order_by(
            "clawed_back_at", "pk"
        )
    ]
    return paid + netted


def statement_is_payable(statement: Statement) -> bool:
    return statement.status == StatementStatus.ISSUED and statement.net_fen > 0
