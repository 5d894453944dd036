"""The broker programme's pages (mounted at /broker/): the OEM task board, the leaderboard, monthly
statements with their CSV and Excel downloads, and the broker's honours.

Every page starts from the signed-in user's broker: a broker sees only their own tasks' results and
statements (another broker's statement id is answered 404, like an unknown one). Someone signed in who is
not a broker is sent to the page that explains how to become one.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.exports import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE
from forecourt.dealers.models import City
from forecourt.referrals import reports
from forecourt.referrals.access import broker_page
from forecourt.referrals.honours_selectors import (
    broker_badges,
    broker_results,
    leaderboard,
    leaderboard_cities,
    level_progress,
)
from forecourt.referrals.models import Broker, Statement, StatementStatus
from forecourt.referrals.periods import month_before, month_first, month_label
from forecourt.referrals.presenters import model_names
from forecourt.referrals.services import task_accept
from forecourt.referrals.statement_selectors import (
    statement_draft,
    statement_get,
    statement_lines,
    statement_payout,
    statements_of,
)
from forecourt.referrals.task_selectors import task_get, tasks_board

LEADERBOARD_MONTHS = 6
LEADERBOARD_SIZE = 30


@never_cache
@broker_page
@require_GET
def tasks(request: HttpRequest, broker: Broker) -> HttpResponse:
    cards = tasks_board(broker=broker)
    context = {
        "broker": broker,
        "cards": cards,
        "models": model_names({card.task.model_code for card in cards if card.task.model_code}),
    }
    return render(request, "referrals/programme/tasks.html", context)


@broker_page
@require_POST
def task_accept_view(request: HttpRequest, broker: Broker, task_id: str) -> HttpResponse:
    try:
        task = task_get(public_id=task_id, published_only=True)
    except DomainError:
        raise Http404 from None
    try:
        _acceptance, created = task_accept(task=task, broker=broker)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if created:
            messages.success(
                request,
                _("You took on “%(title)s”: your friends' results count from now.") % {"title": task.title},
            )
        else:
            messages.info(request, _("You have already taken on this task."))
    return redirect("referrals-programme:tasks")


def _month_choices(current: date) -> list[date]:
    months = [current]
    while len(months) < LEADERBOARD_MONTHS:
        months.append(month_before(months[-1]))
    return months


@never_cache
@broker_page
@require_GET
def leaderboard_view(request: HttpRequest, broker: Broker) -> HttpResponse:
    this_month = month_first(clock.now())
    months = _month_choices(this_month)
    try:
        month = month_first(request.GET["month"]) if request.GET.get("month") else this_month
    except DomainError:
        month = this_month
    if month not in months:
        month = this_month
    cities = leaderboard_cities()
    if broker.city is not None and broker.city not in cities:
        cities.insert(0, broker.city)
    wanted = request.GET.get("city", "")
    city: City | None = next((item for item in cities if item.code == wanted), None)
    if city is None and wanted != "all":
        city = broker.city
    everyone = leaderboard(month=month, city=city, limit=None)
    mine = next((row for row in everyone if row.broker_id == broker.pk), None)
    shown = everyone[:LEADERBOARD_SIZE]
    context = {
        "broker": broker,
        "rows": shown,
        "mine": mine,
        # Below the top of the board: the broker's own row is shown under it.
        "mine_below": mine is not None and mine not in shown,
        "month": month,
        "month_label": month_label(month),
        "months": [(month_label(item), item) for item in months],
        "city": city,
        "cities": cities,
    }
    return render(request, "referrals/programme/leaderboard.html", context)


@never_cache
@broker_page
@require_GET
def statements(request: HttpRequest, broker: Broker) -> HttpResponse:
    this_month = month_first(clock.now())
    issued = list(statements_of(broker))
    # What the running month has gathered so far (not a statement yet: ops issue it after the month).
    running = None
    if not any(statement.month == this_month for statement in issued):
        running = statement_draft(broker=broker, month=this_month)
    context = {
        "broker": broker,
        "statements": issued,
        "running": running,
        "running_money": running.money() if running else {},
        "this_month": month_label(this_month),
    }
    return render(request, "referrals/programme/statements.html", context)


def _own_statement(broker: Broker, statement_id: str) -> Statement:
    try:
        return statement_get(public_id=statement_id, broker=broker)
    except DomainError:
        raise Http404 from None


def statement_context(found: Statement) -> dict[str, Any]:
    """What a statement's page shows (the broker's page and ops' page alike)."""
    return {
        "statement": found,
        "lines": statement_lines(found),
        "month_label": month_label(found.month),
        "is_paid": found.status == StatementStatus.PAID,
        "payout": statement_payout(found) if found.status == StatementStatus.PAID else None,
    }


@never_cache
@broker_page
@require_GET
def statement(request: HttpRequest, broker: Broker, statement_id: str) -> HttpResponse:
    context = statement_context(_own_statement(broker, statement_id))
    return render(request, "referrals/programme/statement.html", context)


def statement_download_response(found: Statement, fmt: str) -> HttpResponseBase:
    """The statement as a CSV or Excel attachment (shared by the broker's and ops' pages)."""
    if fmt == "csv":
        response = HttpResponse(reports.statement_csv(found), content_type=CSV_CONTENT_TYPE)
    elif fmt == "xlsx":
        response = HttpResponse(reports.statement_xlsx(found), content_type=XLSX_CONTENT_TYPE)
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{reports.statement_filename(found, fmt)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@broker_page
@require_GET
def statement_download(request: HttpRequest, broker: Broker, statement_id: str, fmt: str) -> HttpResponseBase:
    if fmt not in ("csv", "xlsx"):
        raise Http404
    return statement_download_response(_own_statement(broker, statement_id), fmt)


@never_cache
@broker_page
@require_GET
def honours(request: HttpRequest, broker: Broker) -> HttpResponse:
    results = broker_results(broker)
    this_month = month_first(clock.now())
    board = leaderboard(month=this_month, city=broker.city, limit=None) if broker.city else []
    mine = next((row for row in board if row.broker_id == broker.pk), None)
    context = {
        "broker": broker,
        "results": results,
        "progress": level_progress(results.score),
        "badges": broker_badges(broker),
        "rank": mine,
        "ranked": len(board),
        "month_label": month_label(this_month),
    }
    return render(request, "referrals/programme/honours.html", context)
