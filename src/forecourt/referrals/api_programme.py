"""The broker programme's API, beside api.py at /api/v1/broker.

- `GET /tasks`: the task board — running tasks and those the broker took on, with the money left and the
  broker's own results; `GET /tasks/{id}`: one task.
- `POST /tasks/{id}/accept`: take a task on → 201 `{"task": …}` (200 when already taken on); 409
  `task_not_open` when it has ended or its budget is used up.
- `GET /statements`: the broker's monthly statements; `GET /statements/{id}`: one, with its lines (another
  broker's is 404, like an unknown id).
- `GET /honours`: level, score, progress to the next level and badges; `GET /leaderboard?city=&month=`:
  a month's ranking in a city (names masked), with the broker's own row.

Someone signed in who is not a broker gets 404 `not_a_broker`. Money is `{"amount": <fen>, "currency"}`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from forecourt.accounts.auth import api_auth
from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.core.errors import field_error
from forecourt.core.money import Money
from forecourt.dealers.models import City
from forecourt.referrals.access import api_broker
from forecourt.referrals.errors import ReferralErrorCode
from forecourt.referrals.honours_selectors import (
    broker_badges,
    broker_results,
    leaderboard,
    level_progress,
)
from forecourt.referrals.models import Statement
from forecourt.referrals.periods import month_first, month_label
from forecourt.referrals.services import task_accept
from forecourt.referrals.statement_selectors import statement_get, statement_lines, statements_of
from forecourt.referrals.task_selectors import TaskCard, task_card, task_get, tasks_board

router = Router(tags=["broker"], auth=api_auth)


def _iso(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat()


def _money(fen: int) -> dict[str, Any]:
    return Money(fen).as_dict()


def task_out(card: TaskCard) -> dict[str, Any]:
    task = card.task
    return {
        "id": task.public_id,
        "title": task.title,
        "description": task.description,
        "goal": task.goal,
        "kind": task.kind,
        "model": task.model_code or None,
        "city": task.city.code if task.city_id and task.city else None,
        "amount": _money(task.amount_fen),
        "budget": _money(task.budget_fen),
        "remaining": _money(card.remaining_fen),
        "target_count": task.target_count,
        "results": card.results,
        "starts_at": _iso(task.starts_at),
        "ends_at": _iso(task.ends_at),
        "status": task.status,
        "is_open": card.is_open,
        "accepted_at": _iso(card.accepted_at) if card.accepted_at else None,
        "mine": {"results": card.my_results, "earned": _money(card.my_earned_fen)},
    }


@router.get("/tasks", summary="The task board: running tasks and the ones I took on")
def tasks_list(request: HttpRequest) -> dict[str, Any]:
    broker = api_broker(request)
    return {"tasks": [task_out(card) for card in tasks_board(broker=broker)]}


def _task(task_id: str) -> Any:
    # Drafts are not published: as unknown as a task that does not exist.
    return task_get(public_id=task_id, published_only=True)


@router.get("/tasks/{task_id}", summary="One task, with my results on it")
def tasks_detail(request: HttpRequest, task_id: str) -> dict[str, Any]:
    broker = api_broker(request)
    return {"task": task_out(task_card(task=_task(task_id), broker=broker))}


@router.post("/tasks/{task_id}/accept", response={200: dict, 201: dict}, summary="Take a task on")
def tasks_accept(request: HttpRequest, task_id: str) -> tuple[int, dict[str, Any]]:
    broker = api_broker(request)
    task = _task(task_id)
    _acceptance, created = task_accept(task=task, broker=broker)
    return (201 if created else 200), {"task": task_out(task_card(task=task, broker=broker))}


def statement_out(statement: Statement, *, lines: bool = False) -> dict[str, Any]:
    payout = getattr(statement, "payout", None)
    data: dict[str, Any] = {
        "id": statement.public_id,
        "month": month_label(statement.month),
        "gross": _money(statement.gross_fen),
        "tax_withheld": _money(statement.tax_fen),
        "net": _money(statement.net_fen),
        "status": statement.status,
        "issued_at": _iso(statement.issued_at),
        "payout": {
            "amount": _money(payout.amount_fen),
            "reference": payout.reference,
            "paid_at": _iso(payout.paid_at),
        }
        if payout is not None
        else None,
    }
    if lines:
        data["lines"] = [
            {
                "commission": line.commission.public_id,
                "referral": line.commission.referral.public_id,
                "kind": line.commission.kind,
                "task": line.commission.task.public_id if line.commission.task else None,
                "description": line.description,
                "clawback": line.is_clawback,
                "status": line.commission.status,
                "amount": _money(line.amount_fen),
                "at": _iso(line.when) if line.when else None,
            }
            for line in statement_lines(statement)
        ]
    return data


@router.get("/statements", summary="My monthly statements")
def statements_list(request: HttpRequest) -> dict[str, Any]:
    broker = api_broker(request)
    return {"statements": [statement_out(item) for item in statements_of(broker)]}


@router.get("/statements/{statement_id}", summary="One of my statements, with its lines")
def statements_detail(request: HttpRequest, statement_id: str) -> dict[str, Any]:
    broker = api_broker(request)
    return {"statement": statement_out(statement_get(public_id=statement_id, broker=broker), lines=True)}


@router.get("/honours", summary="My level, score and badges")
def honours(request: HttpRequest) -> dict[str, Any]:
    broker = api_broker(request)
    results = broker_results(broker)
    progress = level_progress(results.score)
    return {
        "level": {"code": progress.level.code, "name": str(progress.level.label)},
        "next_level": {
            "code": progress.next_level.code,
            "name": str(progress.next_level.label),
            "score_needed": progress.to_next,
        }
        if progress.next_level
        else None,
        "score": results.score,
        "results": {
            "referred": results.referred,
            "visits": results.qualified,
            "sales": results.sold,
            "task_results": results.task_results,
        },
        "badges": [
            {
                "code": badge.code,
                "name": str(badge.label),
                "description": str(badge.description),
                "earned_at": _iso(badge.earned_at) if badge.earned_at else None,
                "detail": badge.detail,
            }
            for badge in broker_badges(broker)
        ],
    }


class LeaderboardQuery(Schema):
    city: str | None = Field(default=None, max_length=40, pattern=r"^[a-z0-9-]+$")
    month: str | None = Field(default=None, max_length=7)


@router.get("/leaderboard", summary="A month's leaderboard in a city (?city=&month=YYYY-MM)")
def leaderboard_view(request: HttpRequest, query: Query[LeaderboardQuery]) -> dict[str, Any]:
    broker = api_broker(request)
    month = month_first(query.month) if query.month else month_first(clock.now())
    if query.city:
        city = City.objects.filter(code=query.city).first()
        if city is None:
            raise field_error(ReferralErrorCode.INVALID, "city", _("No such city."))
    else:
        city = broker.city
    rows = leaderboard(month=month, city=city, limit=None)
    mine = next((row for row in rows if row.broker_id == broker.pk), None)

    def row_out(row: Any) -> dict[str, Any]:
        return {
            "rank": row.rank,
            "name": row.name,
            "visits": row.qualified,
            "sales": row.sold,
            "score": row.score,
            "is_me": row.broker_id == broker.pk,
        }

    return {
        "month": month_label(month),
        "city": city.code if city else None,
        "rows": [row_out(row) for row in rows[:50]],
        "me": row_out(mine) if mine else None,
    }
