"""Writing the points ledger: earn, spend, reverse, adjust and record lapses, each exactly once.

Every write is keyed (`idempotency_key` is unique), so a replayed event or a double click finds the
first entry and changes nothing. Spending and reversing lock the member's row first, then replay the
ledger under the lock: two spends at once cannot both see the same points.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.events import event_record
from forecourt.loyalty.errors import LoyaltyErrorCode
from forecourt.loyalty.ledger import LedgerState, replay
from forecourt.loyalty.models import EntryKind, Member, PointsEntry
from forecourt.loyalty.selectors import ledger_lines, points_expiry_for


def member_for(user: Any) -> Member:
    """The user's member row, made on first need (every consumer is a member)."""
    member = Member.objects.filter(user=user).first()
    if member is not None:
        return member
    try:
        with transaction.atomic():
            member = Member.objects.create(user=user, joined_at=clock.now())
    except IntegrityError:
        member = Member.objects.get(user=user)
    return member


def member_lock(member: Member) -> Member:
    return Member.objects.select_for_update().get(pk=member.pk)


def _existing(key: str) -> PointsEntry | None:
    return PointsEntry.objects.filter(idempotency_key=key).first()


def _create(**fields: Any) -> tuple[PointsEntry, bool]:
    """Insert one entry in its own savepoint; a twin that won the race is returned instead (not created)."""
    try:
        with transaction.atomic():
            return PointsEntry.objects.create(**fields), True
    except IntegrityError:
        twin = _existing(fields["idempotency_key"])
        if twin is None:
            raise
        return twin, False


def _event(name: str, entry: PointsEntry, **payload: Any) -> None:
    event_record(
        name,
        subject_type="member",
        subject_id=entry.member.number,
        actor=entry.actor,
        payload={
            "member": entry.member.user.public_id,
            "entry": entry.pk,
            "kind": entry.kind,
            "points": entry.points,
            "reason": entry.reason,
            "source_ref": entry.source_ref,
            **payload,
        },
    )


def points_earn(
    *,
    member: Member,
    points: int,
    reason: str,
    idempotency_key: str,
    note: str = "",
    source_event: str = "",
    source_ref: str = "",
    rule: Any = None,
    holding_days: int = 0,
    qualifying: bool = True,
    at: datetime | None = None,
    actor: Any = None,
) -> PointsEntry:
    """Credit points (pending for `holding_days`, lapsing at the end of the year after they were earned)."""
    if points <= 0:
        raise DomainError(LoyaltyErrorCode.INVALID, _("Points earned must be positive."), status=422)
    existing = _existing(idempotency_key)
    if existing is not None:
        return existing
    moment = at or clock.now()
    with transaction.atomic():
        entry, created = _create(
            member=member,
            kind=EntryKind.EARN,
            points=points,
            reason=reason,
            note=note[:200],
            source_event=source_event,
            source_ref=source_ref,
            rule=rule,
            idempotency_key=idempotency_key,
            occurred_at=moment,
            available_at=moment + timedelta(days=holding_days),
            expires_at=points_expiry_for(moment),
            qualifying=qualifying,
            actor=actor if getattr(actor, "pk", None) else None,
        )
        if created:
            available_at = entry.available_at.isoformat() if entry.available_at else None
            _event("points.earned", entry, available_at=available_at)
    return entry


def points_state(member: Member, at: datetime | None = None) -> LedgerState:
    """The member's derived points (spendable, pending, expiring, owed) at `at` (now by default)."""
    return replay(ledger_lines(member), at or clock.now())


def points_spend(
    *,
    member: Member,
    points: int,
    reason: str,
    idempotency_key: str,
    note: str = "",
    source_ref: str = "",
    actor: Any = None,
) -> PointsEntry:
    """Spend points under the member's row lock; 409 `insufficient_points` when too few are spendable.

    Call inside the caller's transaction when the spend must stand or fall with other writes.
    """
    if points <= 0:
        raise DomainError(LoyaltyErrorCode.INVALID, _("Points spent must be positive."), status=422)
    with transaction.atomic():
        locked = member_lock(member)
        existing = _existing(idempotency_key)
        if existing is not None:
            return existing
        moment = clock.now()
        state = points_state(locked, moment)
        if state.spendable < points:
            raise DomainError(
                LoyaltyErrorCode.INSUFFICIENT_POINTS,
                _("Not enough points: %(spendable)s spendable, %(needed)s needed.")
                % {"spendable": state.spendable, "needed": points},
                status=409,
                details={"spendable": state.spendable, "needed": points},
            )
        entry = PointsEntry.objects.create(
            member=locked,
            kind=EntryKind.REDEEM,
            points=-points,
            reason=reason,
            note=note[:200],
            source_ref=source_ref,
            idempotency_key=idempotency_key,
            occurred_at=moment,
            actor=actor if getattr(actor, "pk", None) else None,
        )
        _event("points.spent", entry)
    return entry


def points_reverse(
    *, entry: PointsEntry, reason: str, idempotency_key: str = "", source_event: str = "", actor: Any = None
) -> PointsEntry | None:
    """Undo one earn, adjustment or spend exactly once; an earning already spent leaves a debt.

    Returns the reversal (the standing one when it was reversed before), or None for an expiry (a lapse
    is not undone).
    """
    if entry.kind in (EntryKind.REVERSAL, EntryKind.EXPIRY):
        return None
    key = idempotency_key or f"reverse:{entry.pk}"
    with transaction.atomic():
        locked = member_lock(entry.member)
        standing = PointsEntry.objects.filter(reverses=entry).first() or _existing(key)
        if standing is not None:
            return standing
        moment = clock.now()
        if entry.points > 0:
            amount = -points_state(locked, moment).reversal_points(entry.pk)
            expires_at = None
        else:
            amount = -entry.points
            expires_at = points_expiry_for(moment)
        if amount == 0:
            # Every point of it lapsed already: nothing is left to take back.
            return None
        reversal = PointsEntry.objects.create(
            member=locked,
            kind=EntryKind.REVERSAL,
            points=amount,
            reason=reason,
            note=entry.note,
            source_event=source_event,
            source_ref=entry.source_ref,
            idempotency_key=key,
            occurred_at=moment,
            available_at=moment if amount > 0 else None,
            expires_at=expires_at,
            reverses=entry,
            actor=actor if getattr(actor, "pk", None) else None,
        )
        _event("points.reversed", reversal, reverses=entry.pk)
    return reversal


def points_adjust(*, member: Member, points: int, note: str, actor: Any, idempotency_key: str) -> PointsEntry:
    """Ops correct a balance by hand, with a note; a negative adjustment may leave a debt."""
    if points == 0 or not note.strip():
        raise DomainError(
            LoyaltyErrorCode.INVALID, _("An adjustment needs a non-zero amount and a note."), status=422
        )
    existing = _existing(idempotency_key)
    if existing is not None:
        return existing
    with transaction.atomic():
        locked = member_lock(member)
        moment = clock.now()
        entry, created = _create(
            member=locked,
            kind=EntryKind.ADJUST,
            points=points,
            reason="ops_adjustment",
            note=note.strip()[:200],
            idempotency_key=idempotency_key,
            occurred_at=moment,
            available_at=moment if points > 0 else None,
            expires_at=points_expiry_for(moment) if points > 0 else None,
            actor=actor,
        )
        if created:
            _event("points.adjusted", entry)
    return entry


def points_expiries_write(*, member: Member, at: datetime | None = None) -> int:
    """Sweeper: write the expiry entry of every lot that lapsed unspent. Returns how many were written."""
    moment = at or clock.now()
    written = 0
    with transaction.atomic():
        locked = member_lock(member)
        for lot_id, points, lapsed_at in points_state(locked, moment).unwritten_expiries:
            PointsEntry.objects.create(
                member=locked,
                kind=EntryKind.EXPIRY,
                points=-points,
                reason="expiry",
                idempotency_key=f"expire:{lot_id}",
                occurred_at=lapsed_at,
                lot_id=lot_id,
            )
            written += 1
    return written
