"""OEM tasks: ops publish "20 test drives of the new SUV in Shanghai this month, ¥200 each, budget
¥10,000"; brokers accept; results are counted from events for the brokers who accepted.

A result is one referral of the broker reaching the task's goal (a test drive finished, a store visit
checked in, a car delivered) within the task's model, city and dates, after the broker accepted. Each
referral counts once per task. Its commission takes the task's money by a conditional UPDATE
(`committed + amount ≤ budget`) in the same savepoint as the commission row, so however many results
arrive at once the budget is never exceeded (the CHECK constraint on Task backs this up). A clawback
(referrals' `commission_claw_back`) gives the money back; so does ops rejecting a held result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils.translation import gettext as _

from forecourt.catalog.models import VehicleModel
from forecourt.core.audit import audit_record
from forecourt.core.clock import now
from forecourt.core.errors import DomainError, field_error
from forecourt.core.events import event_record
from forecourt.dealers.models import City
from forecourt.referrals.access import ensure_ops
from forecourt.referrals.errors import ReferralErrorCode
from forecourt.referrals.models import (
    Broker,
    BrokerStatus,
    Commission,
    CommissionKind,
    Referral,
    Stage,
    Task,
    TaskAcceptance,
    TaskGoal,
    TaskStatus,
)
from forecourt.referrals.services.commissions import commission_record
from forecourt.referrals.task_selectors import LIVE_STATUSES, task_is_open

TITLE_MAX_LENGTH = 120
DESCRIPTION_MAX_LENGTH = 500
# Far above any real task, well inside the column (a positive 32-bit integer).
TARGET_COUNT_MAX = 1_000_000


def _invalid(field: str, message: str) -> DomainError:
    return field_error(ReferralErrorCode.INVALID, field, message)


def _task_payload(task: Task) -> dict[str, Any]:
    return {
        "task": task.public_id,
        "title": task.title,
        "goal": task.goal,
        "kind": task.kind,
        "model": task.model_code,
        "city": task.city.code if task.city_id and task.city else None,
        "amount_fen": task.amount_fen,
        "budget_fen": task.budget_fen,
        "starts_at": task.starts_at.isoformat(),
        "ends_at": task.ends_at.isoformat(),
    }


def _checked_amount(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _invalid(field, _("Enter an amount above zero."))
    return value


def _checked_words(title: Any, description: Any) -> tuple[str, str]:
    """The title (spaces tidied, required) and description, within their lengths."""
    title = " ".join(str(title or "").split())
    if not title:
        raise _invalid("title", _("Give the task a title."))
    if len(title) > TITLE_MAX_LENGTH:
        raise _invalid("title", _("At most %(count)s characters.") % {"count": TITLE_MAX_LENGTH})
    description = str(description or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise _invalid("description", _("At most %(count)s characters.") % {"count": DESCRIPTION_MAX_LENGTH})
    return title, description


def _checked_kind(goal: Any, kind: str | None) -> str:
    """How the task pays (by default per sale for deliveries, per lead otherwise), for a known goal."""
    if goal not in TaskGoal.values:
        raise _invalid("goal", _("Choose what the task counts."))
    if kind is None:
        kind = CommissionKind.CPS if goal == TaskGoal.DELIVERY else CommissionKind.CPL
    if kind not in CommissionKind.values:
        raise _invalid("kind", _("Choose per lead or per sale."))
    return kind


def _task_recorded(task: Task, *, actor: Any, action: str, event: str = "") -> None:
    """Audit `action` on the task and record `event` (if any) with the task's terms, in the caller's
    transaction."""
    if event:
        event_record(
            event, subject_type="task", subject_id=task.public_id, actor=actor, payload=_task_payload(task)
        )
    audit_record(actor=actor, action=action, object_type="task", object_id=task.public_id)


def task_create(
    *,
    actor: Any,
    title: str,
    goal: str,
    amount_fen: int,
    budget_fen: int,
    starts_at: datetime,
    ends_at: datetime,
    kind: str | None = None,
    model_code: str = "",
    city: City | None = None,
    description: str = "",
    target_count: int = 0,
    publish: bool = True,
) -> Task:
    """Create an OEM task (ops), published at once unless `publish` is False (a draft)."""
    ensure_ops(actor)
    title, description = _checked_words(title, description)
    kind = _checked_kind(goal, kind)
    amount_fen = _checked_amount(amount_fen, "amount")
    budget_fen = _checked_amount(budget_fen, "budget")
    if budget_fen < amount_fen:
        raise _invalid("budget", _("The budget must pay for at least one result."))
    if starts_at is None or ends_at is None or ends_at <= starts_at:
        raise _invalid("ends_at", _("The task must end after it starts."))
    if ends_at <= now():
        raise _invalid("ends_at", _("The task must end in the future."))
    model_code = str(model_code or "").strip()
    if model_code and not VehicleModel.objects.filter(code=model_code).exists():
        raise _invalid("model", _("No such model."))
    if (
        isinstance(target_count, bool)
        or not isinstance(target_count, int)
        or not 0 <= target_count <= TARGET_COUNT_MAX
    ):
        raise _invalid("target_count", _("Enter a whole number of results."))
    moment = now()
    with transaction.atomic():
        task = Task.objects.create(
            title=title,
            description=description,
            goal=goal,
            kind=kind,
            model_code=model_code,
            city=city,
            amount_fen=amount_fen,
            budget_fen=budget_fen,
            # Unless ops say otherwise, the target is what the budget pays for.
            target_count=target_count or min(budget_fen // amount_fen, TARGET_COUNT_MAX),
            starts_at=starts_at,
            ends_at=ends_at,
            status=TaskStatus.PUBLISHED if publish else TaskStatus.DRAFT,
            created_by=actor,
            created_at=moment,
        )
        _task_recorded(task, actor=actor, action="task.created", event="task.published" if publish else "")
    return task


def task_publish(*, task: Task, actor: Any) -> Task:
    """Publish a draft task (ops): brokers see it on the board and may accept it."""
    ensure_ops(actor)
    with transaction.atomic():
        moved = Task.objects.filter(pk=task.pk, status=TaskStatus.DRAFT, ends_at__gt=now()).update(
            status=TaskStatus.PUBLISHED
        )
        task.refresh_from_db()
        if not moved:
            raise DomainError(
                ReferralErrorCode.TASK_NOT_DRAFT,
                _("Only a draft task that has not ended can be published."),
                status=409,
                details={"status": task.status},
            )
        _task_recorded(task, actor=actor, action="task.published", event="task.published")
    return task


def task_close(*, task: Task, actor: Any) -> Task:
    """Close a task early (ops): it counts no more results; results already counted stay owed."""
    ensure_ops(actor)
    with transaction.atomic():
        moved = Task.objects.filter(pk=task.pk, status__in=[TaskStatus.DRAFT, TaskStatus.PUBLISHED]).update(
            status=TaskStatus.CLOSED
        )
        task.refresh_from_db()
        if not moved:
            raise DomainError(ReferralErrorCode.TASK_NOT_OPEN, _("This task is already closed."), status=409)
        _task_recorded(task, actor=actor, action="task.closed", event="task.closed")
    return task


def task_accept(*, task: Task, broker: Broker) -> tuple[TaskAcceptance, bool]:
    """The broker takes the task on (once): their referrals' results count from now. (acceptance, new)."""
    if broker.status != BrokerStatus.ACTIVE:
        raise DomainError(
            ReferralErrorCode.BROKER_SUSPENDED, _("Your broker account is suspended."), status=403
        )
    existing = TaskAcceptance.objects.filter(task=task, broker=broker).first()
    if existing is not None:
        return existing, False
    task.refresh_from_db()
    if not task_is_open(task):
        raise DomainError(
            ReferralErrorCode.TASK_NOT_OPEN,
            _("This task is no longer open: it has ended or its budget is used up."),
            status=409,
        )
    moment = now()
    try:
        with transaction.atomic():
            acceptance = TaskAcceptance.objects.create(task=task, broker=broker, accepted_at=moment)
            event_record(
                "task.accepted",
                subject_type="task",
                subject_id=task.public_id,
                actor=broker.user,
                payload={**_task_payload(task), "broker": broker.user.public_id, "broker_code": broker.code},
            )
    except IntegrityError:
        # Accepted twice at the same moment (a double tap): the first acceptance stands.
        return TaskAcceptance.objects.get(task=task, broker=broker), False
    return acceptance, True


def _available_at(goal: str, at: datetime) -> datetime:
    # Owed once the result can no longer be undone cheaply: a lead's after the CPL hold, a sale's after
    # the return window.
    if goal == TaskGoal.DELIVERY:
        return at + timedelta(days=settings.REFERRALS_RETURN_WINDOW_DAYS)
    return at + timedelta(days=settings.REFERRALS_CPL_HOLD_DAYS)


class _NotCounted(Exception):
    """Leave the savepoint: undo the budget taken for a result that is not counted after all."""


def _count_one(*, task: Task, referral: Referral, at: datetime, actor: Any) -> Commission | None:
    key = f"task:{task.public_id}:{referral.public_id}"
    if Commission.objects.filter(idempotency_key=key).exists():
        return None
    try:
        with transaction.atomic():
            # The guard is the UPDATE itself: of many results racing for the last money, only those
            # whose increment still fits under the budget move the row.
            taken = Task.objects.filter(
                pk=task.pk,
                status=TaskStatus.PUBLISHED,
                committed_fen__lte=F("budget_fen") - task.amount_fen,
            ).update(committed_fen=F("committed_fen") + task.amount_fen)
            if not taken:
                raise _NotCounted
            commission, created = commission_record(
                referral=referral,
                kind=task.kind,
                amount_fen=task.amount_fen,
                available_at=_available_at(task.goal, at),
                idempotency_key=key,
                task=task,
                actor=actor,
            )
            if not created:
                # Counted by a concurrent delivery of the same result: its money is already taken.
                raise _NotCounted
    except _NotCounted:
        return None
    return commission


@dataclass(frozen=True)
class TaskResult:
    """One result to count: the referral, what it achieved, where (model, city) and when."""

    referral: Referral
    goal: str
    at: datetime
    model_code: str = ""
    city_id: int | None = None


def task_results_record(*, result: TaskResult, actor: Any = None) -> list[Commission]:
    """Count `result` on every open task its broker accepted before it and whose goal, model, city and
    dates it matches; returns the commissions created (none when already counted or out of budget)."""
    referral = result.referral
    if referral.stage == Stage.REJECTED:
        return []
    if not Broker.objects.filter(pk=referral.broker_id, status=BrokerStatus.ACTIVE).exists():
        return []
    model_code = result.model_code or referral.model_code
    city_id = result.city_id if result.city_id is not None else referral.city_id
    tasks = (
        Task.objects.filter(
            status=TaskStatus.PUBLISHED,
            goal=result.goal,
            starts_at__lte=result.at,
            ends_at__gt=result.at,
            acceptances__broker_id=referral.broker_id,
            acceptances__accepted_at__lte=result.at,
        )
        .filter(Q(model_code="") | Q(model_code=model_code))
        .filter(Q(city__isnull=True) | Q(city_id=city_id))
        .order_by("pk")
    )
    created = []
    with transaction.atomic():
        for task in tasks:
            commission = _count_one(task=task, referral=referral, at=result.at, actor=actor)
            if commission is not None:
                created.append(commission)
    return created


def task_budget_settle(*, task: Task) -> int:
    """Re-derive the task's committed money from its live results (ops rejected one, say); returns the
    money given back. Idempotent: the task's row lock orders it with results being counted."""
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        owed = Commission.objects.filter(task=locked, status__in=LIVE_STATUSES)
        live = owed.aggregate(total=Sum("amount_fen"))["total"] or 0
        freed = locked.committed_fen - live
        if freed > 0:
            Task.objects.filter(pk=locked.pk).update(committed_fen=live)
    task.committed_fen = live if freed > 0 else locked.committed_fen
    return max(freed, 0)


def tasks_close_ended(*, at: datetime | None = None) -> int:
    """Sweeper: mark published tasks whose end has passed as closed (they already count nothing)."""
    moment = at or now()
    return Task.objects.filter(status=TaskStatus.PUBLISHED, ends_at__lte=moment).update(
        status=TaskStatus.CLOSED
    )
