"""Reads for OEM tasks: the broker's task board, one task, and ops' view of every task with its results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from forecourt.core.clock import now
from forecourt.core.errors import NotFound
from forecourt.core.money import Money
from forecourt.referrals.models import (
    Broker,
    Commission,
    CommissionStatus,
    Task,
    TaskAcceptance,
    TaskStatus,
)

# A result whose money the task still owes or has paid (not clawed back, not rejected).
LIVE_STATUSES = (
    CommissionStatus.PENDING,
    CommissionStatus.HELD,
    CommissionStatus.AVAILABLE,
    CommissionStatus.PAID,
)


@dataclass(frozen=True)
class TaskCard:
    """A task as one broker sees it on the board."""

    task: Task
    results: int
    accepted_at: datetime | None = None
    my_results: int = 0
    my_earned_fen: int = 0
    is_open: bool = True

    @property
    def is_accepted(self) -> bool:
        return self.accepted_at is not None

    @property
    def remaining_fen(self) -> int:
        return self.task.budget_fen - self.task.committed_fen

    @property
    def money(self) -> dict[str, Money]:
        return {
            "amount": Money(self.task.amount_fen),
            "budget": Money(self.task.budget_fen),
            "remaining": Money(self.remaining_fen),
            "my_earned": Money(self.my_earned_fen),
        }

    @property
    def progress_percent(self) -> int:
        target = self.task.target_count or 1
        return min(100, self.results * 100 // target)


def task_is_open(task: Task, *, at: datetime | None = None) -> bool:
    """Published, not ended, and with money left for at least one more result."""
    moment = at or now()
    return (
        task.status == TaskStatus.PUBLISHED
        and task.ends_at > moment
        and task.budget_fen - task.committed_fen >= task.amount_fen
    )


def _result_counts(task_ids: list[int]) -> dict[int, int]:
    return dict(
        Commission.objects.filter(task_id__in=task_ids, status__in=LIVE_STATUSES)
        .values("task_id")
        .annotate(count=Count("id"))
        .values_list("task_id", "count")
    )


def tasks_board(*, broker: Broker, at: datetime | None = None) -> list[TaskCard]:
    """Published tasks still running, then the tasks this broker took on that have ended since."""
    moment = at or now()
    accepted = {
        acceptance.task_id: acceptance.accepted_at
        for acceptance in TaskAcceptance.objects.filter(broker=broker)
    }
    tasks = list(
        Task.objects.filter(Q(status=TaskStatus.PUBLISHED, ends_at__gt=moment) | Q(pk__in=list(accepted)))
        .exclude(status=TaskStatus.DRAFT)
        .select_related("city")
        .order_by("ends_at", "pk")
    )
    ids = [task.pk for task in tasks]
    counts = _result_counts(ids)
    mine = {
        row["task_id"]: (row["count"], row["earned"] or 0)
        for row in Commission.objects.filter(task_id__in=ids, broker=broker, status__in=LIVE_STATUSES)
        .values("task_id")
        .annotate(count=Count("id"), earned=Sum("amount_fen"))
    }
    cards = [
        TaskCard(
            task=task,
            results=counts.get(task.pk, 0),
            accepted_at=accepted.get(task.pk),
            my_results=mine.get(task.pk, (0, 0))[0],
            my_earned_fen=mine.get(task.pk, (0, 0))[1],
            is_open=task_is_open(task, at=moment),
        )
        for task in tasks
    ]
    # Running tasks first (soonest to end first), then the finished ones the broker took part in.
    cards.sort(key=lambda card: (not card.is_open, card.task.ends_at))
    return cards


def task_get(*, public_id: str, published_only: bool = False) -> Task:
    """A task by its public id (404 when unknown; with `published_only`, drafts are unknown too)."""
    queryset = Task.objects.select_related("city", "created_by")
    if published_only:
        queryset = queryset.exclude(status=TaskStatus.DRAFT)
    task = queryset.filter(public_id=str(public_id or "")[:32]).first()
    if task is None:
        raise NotFound(_("No such task."))
    return task


def task_card(*, task: Task, broker: Broker, at: datetime | None = None) -> TaskCard:
    moment = at or now()
    acceptance = TaskAcceptance.objects.filter(task=task, broker=broker).first()
    mine = Commission.objects.filter(task=task, broker=broker, status__in=LIVE_STATUSES).aggregate(
        count=Count("id"), earned=Sum("amount_fen")
    )
    return TaskCard(
        task=task,
        results=_result_counts([task.pk]).get(task.pk, 0),
        accepted_at=acceptance.accepted_at if acceptance else None,
        my_results=mine["count"] or 0,
        my_earned_fen=mine["earned"] or 0,
        is_open=task_is_open(task, at=moment),
    )


@dataclass(frozen=True)
class TaskSummary:
    """A task as ops see it: results, brokers who accepted, money committed and left."""

    task: Task
    results: int
    brokers: int

    @property
    def money(self) -> dict[str, Money]:
        return {
            "amount": Money(self.task.amount_fen),
            "budget": Money(self.task.budget_fen),
            "committed": Money(self.task.committed_fen),
            "remaining": Money(self.task.budget_fen - self.task.committed_fen),
        }


def tasks_for_ops(*, limit: int = 200) -> list[TaskSummary]:
    tasks = list(
        Task.objects.select_related("city")
        .annotate(brokers=Count("acceptances", distinct=True))
        .order_by("-starts_at", "-pk")[:limit]
    )
    counts = _result_counts([task.pk for task in tasks])
    return [TaskSummary(task=task, results=counts.get(task.pk, 0), brokers=task.brokers) for task in tasks]


def task_results(task: Task) -> QuerySet[Commission]:
    """Every result counted on the task (clawed back and rejected ones too), newest first."""
    return (
        Commission.objects.filter(task=task)
        .select_related("broker__user", "referral__person")
        .order_by("-created_at", "-pk")
    )
