"""Commission: money owed to a broker for one result, moved only through one guarded transition.

pending → available (its hold ended) → paid (a statement paid it); held while ops look at a fraud flag
(approved: back to pending; rejected: never paid); clawed back when the sale is undone — also once paid,
and the broker's next statement nets it. Every move locks the commission row first and re-checks the
transition table under the lock, so a clawback racing a payout or a decision cannot both win.

A task's commission (programme's tasks) moves through the same functions: `commission_record` creates it
and `commission_claw_back` gives its money back to the task's budget in the same transaction, once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from forecourt.core import clock
from forecourt.core.audit import audit_record
from forecourt.core.errors import DomainError, NotFound
from forecourt.referrals.access import is_ops
from forecourt.referrals.errors import ReferralErrorCode
from forecourt.referrals.models import (
    COMMISSION_TRANSITIONS,
    Commission,
    CommissionStatus,
    Referral,
    Task,
    TaskGoal,
)
from forecourt.referrals.services.events import commission_event, referral_is_flagged

CS = CommissionStatus
# Statuses a clawback leaves as they are: nothing was ever owed.
_NOTHING_TO_CLAW_BACK = frozenset({CS.CLAWED_BACK, CS.REJECTED})


def commission_lock(commission: Commission | int) -> Commission:
    """Re-read the commission under a row lock (inside the caller's transaction); guards come after."""
    pk = commission if isinstance(commission, int) else commission.pk
    return (
        Commission.objects.select_for_update(of=("self",))
        .select_related("broker", "broker__user", "referral", "referral__person", "referral__city", "task")
        .get(pk=pk)
    )


def _label(status: str) -> str:
    return str(CS(status).label) if status in CS.values else status


def _hold_reason(referral: Referral) -> str:
    rules = sorted({str(flag.get("rule", "")) for flag in referral.flags or [] if not flag.get("cleared")})
    return ", ".join(rule for rule in rules if rule)[:200]


def commission_record(
    *,
    referral: Referral,
    kind: str,
    amount_fen: int,
    available_at: datetime,
    idempotency_key: str,
    task: Task | None = None,
    actor: Any = None,
) -> tuple[Commission, bool]:
    """Owe the broker `amount_fen` for one result, once per `idempotency_key`; (commission, created).

    A flagged referral's commission starts held (`commission.held`) until ops decide; otherwise pending
    until `available_at`. Records `commission.created`.
    """
    existing = Commission.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
    moment = clock.now()
    held = referral_is_flagged(referral)
    try:
        with transaction.atomic():
            commission = Commission.objects.create(
                broker_id=referral.broker_id,
                referral=referral,
                kind=kind,
                task=task,
                amount_fen=amount_fen,
                status=CS.HELD if held else CS.PENDING,
                available_at=available_at,
                hold_reason=_hold_reason(referral) if held else "",
                idempotency_key=idempotency_key,
                created_at=moment,
                updated_at=moment,
            )
            commission_event("commission.created", commission, actor=actor)
            if held:
                commission_event("commission.held", commission, actor=actor, reason=commission.hold_reason)
    except IntegrityError:
        # The same result recorded at the same moment by a replayed event: the first row stands.
        existing = Commission.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing, False
    return commission, True


def commission_transition(
    *, commission: Commission | int, to_status: str, actor: Any = None, note: str = "", reason: str = ""
) -> Commission:
    """Move a commission along COMMISSION_TRANSITIONS: lock, re-check under the lock, write, record."""
    with transaction.atomic():
        locked = commission_lock(commission)
        if to_status not in COMMISSION_TRANSITIONS.get(locked.status, frozenset()):
            raise DomainError(
                ReferralErrorCode.TRANSITION_NOT_ALLOWED,
                _("A commission cannot move from %(from)s to %(to)s.")
                % {"from": _label(locked.status), "to": _label(to_status)},
                status=409,
                details={"from": locked.status, "to": to_status},
            )
        moment = clock.now()
        if to_status == CS.AVAILABLE and locked.available_at > moment:
            raise DomainError(
                ReferralErrorCode.TRANSITION_NOT_ALLOWED,
                _("This commission is not available before %(when)s.")
                % {"when": locked.available_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M")},
                status=409,
                details={"from": locked.status, "to": to_status},
            )
        was = locked.status
        locked.status = to_status
        locked.updated_at = moment
        fields = ["status", "updated_at"]
        if to_status == CS.CLAWED_BACK:
            locked.clawed_back_at = moment
            fields.append("clawed_back_at")
        if to_status == CS.HELD:
            locked.hold_reason = (reason or locked.hold_reason)[:200]
            fields.append("hold_reason")
        if note:
            locked.decision_note = note[:200]
            fields.append("decision_note")
        locked.save(update_fields=fields)
        if to_status == CS.CLAWED_BACK:
            commission_event("commission.clawed_back", locked, actor=actor, reason=reason, was=was)
        elif to_status == CS.HELD:
            commission_event("commission.held", locked, actor=actor, reason=locked.hold_reason)
    return locked


def commissions_move(*, commissions: QuerySet[Commission], to_status: str, at: datetime) -> int:
    """Move many commissions to `to_status` in one conditional UPDATE (a statement's, a payout's): only
    those COMMISSION_TRANSITIONS lets go there move, to `available` only once their hold has ended.
    Records no event (these moves have none). Returns how many moved."""
    sources = sorted(status for status, targets in COMMISSION_TRANSITIONS.items() if to_status in targets)
    movable = commissions.filter(status__in=sources)
    if to_status == CS.AVAILABLE:
        movable = movable.filter(available_at__lte=at)
    # The WHERE is re-checked on each row as the UPDATE takes its lock: a clawback that won the row
    # first leaves it clawed back.
    return movable.update(status=to_status, updated_at=at)


def commission_claw_back(*, commission: Commission | int, reason: str, actor: Any = None) -> Commission:
    """Take back a commission whose sale was undone (cancelled, refunded, returned), exactly once.

    Works from pending, held, available and paid (a paid one is netted by the broker's next statement);
    one already clawed back or rejected is returned unchanged. A task's commission gives its money back
    to the task's budget in the same transaction — callers must not give it back again.
    """
    with transaction.atomic():
        locked = commission_lock(commission)
        if locked.status in _NOTHING_TO_CLAW_BACK:
            return locked
        locked = commission_transition(
            commission=locked, to_status=CS.CLAWED_BACK, actor=actor, reason=reason[:80]
        )
        if locked.task_id is not None:
            # The CHECK (0 ≤ committed ≤ budget) backs this up: money is given back at most once, since
            # only the transition above (under the row lock) reaches this line.
            Task.objects.filter(pk=locked.task_id).update(
                committed_fen=F("committed_fen") - locked.amount_fen
            )
    return locked


def commission_decide(
    *, commission: Commission | int, actor: Any, approve: bool, note: str = ""
) -> Commission:
    """Ops decide a held commission: approved goes back to pending (paid when its hold ends), rejected
    is never paid. Approval clears the referral's flags, so its later commissions are not held again."""
    if not is_ops(actor):
        raise DomainError("forbidden", _("Only OEM operations decide held commissions."), status=403)
    note = str(note or "").strip()
    if len(note) > 200:
        raise DomainError(
            ReferralErrorCode.INVALID,
            _("At most %(n)d characters.") % {"n": 200},
            status=422,
            details=[{"field": "note", "message": _("At most %(n)d characters.") % {"n": 200}}],
        )
    pk = commission if isinstance(commission, int) else commission.pk
    referral_id = Commission.objects.filter(pk=pk).values_list("referral_id", flat=True).first()
    if referral_id is None:
        raise NotFound(_("No such commission."))
    with transaction.atomic():
        # The referral first, then the commission: the order every stage change takes its locks in.
        referral = Referral.objects.select_for_update().get(pk=referral_id)
        locked = commission_lock(pk)
        if locked.status != CS.HELD:
            raise DomainError(
                ReferralErrorCode.NOT_HELD,
                _("This commission is not held for review (it is %(status)s).")
                % {"status": _label(locked.status)},
                status=409,
                details={"status": locked.status},
            )
        to_status = CS.PENDING if approve else CS.REJECTED
        locked = commission_transition(commission=locked, to_status=to_status, actor=actor, note=note)
        if approve:
            moment = clock.now()
            referral.flags = [
                {**flag, "cleared": True, "cleared_at": moment.isoformat(), "cleared_by": actor.public_id}
                if not flag.get("cleared")
                else flag
                for flag in referral.flags or []
            ]
            referral.updated_at = moment
            referral.save(update_fields=["flags", "updated_at"])
            locked.referral = referral
        commission_event("commission.decided", locked, actor=actor, approved=bool(approve), note=note)
        audit_record(
            actor=actor,
            action="referrals.commission_decided",
            object_type="commission",
            object_id=locked.public_id,
            details={"approved": bool(approve), "note": note, "referral": locked.referral.public_id},
        )
    return locked


def commissions_hold_for_referral(*, referral: Referral, reason: str) -> int:
    """A referral newly flagged: hold its pending commissions until ops decide. Returns how many."""
    held = 0
    for pk in Commission.objects.filter(referral=referral, status=CS.PENDING).values_list("pk", flat=True):
        commission_transition(commission=pk, to_status=CS.HELD, reason=reason)
        held += 1
    return held


def commissions_mature(*, limit: int = 500) -> int:
    """Sweeper: write down pending commissions whose hold has ended as available (they already read so)."""
    moment = clock.now()
    due = list(
        Commission.objects.filter(status=CS.PENDING, available_at__lte=moment)
        .order_by("available_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    matured = 0
    for pk in due:
        with transaction.atomic():
            locked = commission_lock(pk)
            # Re-checked under the lock: a clawback or a hold may have moved it since the read above.
            if locked.status != CS.PENDING or locked.available_at > moment:
                continue
            commission_transition(commission=locked, to_status=CS.AVAILABLE)
            matured += 1
    return matured


def commission_claw_back_for_referral(*, referral: Referral, reason: str, kinds: frozenset[str]) -> int:
    """Claw back the referral's own commissions of `kinds` (and its delivery-task ones). Returns how many."""
    clawed = 0
    commissions = Commission.objects.filter(referral=referral).exclude(status__in=_NOTHING_TO_CLAW_BACK)
    for commission in commissions.select_related("task").order_by("pk"):
        own = commission.task_id is None and commission.kind in kinds
        delivery_task = commission.task is not None and commission.task.goal == TaskGoal.DELIVERY
        if own or delivery_task:
            commission_claw_back(commission=commission.pk, reason=reason)
            clawed += 1
    return clawed
