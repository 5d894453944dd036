"""The broker programme's ops pages (mounted at /referrals/ops/): held commissions with their fraud
evidence to approve or reject; OEM tasks to publish, follow and close; monthly statements to issue, with
the payouts recorded against them.

Only OEM operations see these pages; anyone else signed in gets 404, exactly like an address that does
not exist. Every write goes through one service, which checks the role again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from forecourt.catalog.models import VehicleModel
from forecourt.core import clock
from forecourt.core.clock import SHANGHAI
from forecourt.core.errors import DomainError, field_error
from forecourt.dealers.models import City
from forecourt.referrals.access import ops_page
from forecourt.referrals.fraud import FraudRule
from forecourt.referrals.models import (
    Commission,
    CommissionKind,
    Referral,
    Statement,
    TaskGoal,
    TaskStatus,
)
from forecourt.referrals.periods import month_before, month_first, month_label, year_in_range
from forecourt.referrals.programme_views import statement_context, statement_download_response
from forecourt.referrals.selectors import commissions_held
from forecourt.referrals.services import (
    commission_decide,
    payout_record,
    statements_issue_for_month,
    task_close,
    task_create,
    task_publish,
)
from forecourt.referrals.statement_selectors import (
    statement_drafts_due,
    statement_get,
    statement_is_payable,
    statements_for_month,
)
from forecourt.referrals.task_selectors import task_get, task_results, tasks_for_ops

RULE_LABELS: dict[str, Any] = {
    FraudRule.SELF_REFERRAL: gettext_lazy("The broker referring themself"),
    FraudRule.EXISTING_CUSTOMER: gettext_lazy("Already a customer"),
    FraudRule.EXISTING_LEAD: gettext_lazy("Already an open lead"),
    FraudRule.VELOCITY: gettext_lazy("Too many referrals in a day"),
    FraudRule.DEVICE_CLUSTER: gettext_lazy("Many referrals from one device"),
    FraudRule.IP_CLUSTER: gettext_lazy("Many referrals from one network address"),
}
EVIDENCE_LABELS: dict[str, Any] = {
    "device": gettext_lazy("Device"),
    "ip": gettext_lazy("Network address"),
    "count": gettext_lazy("Referrals"),
    "window_days": gettext_lazy("Within (days)"),
    "since": gettext_lazy("Since"),
    "match": gettext_lazy("Matched by"),
    "order": gettext_lazy("Order"),
    "lead": gettext_lazy("Lead"),
    "limit": gettext_lazy("Daily limit"),
    "day": gettext_lazy("Day"),
}
HELD_PAGE = 100


def _text(value: Any) -> str:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        return value
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    return str(value)


@dataclass(frozen=True)
class FlagView:
    """One fraud flag as ops read it: the rule in words, its evidence, the other referrals involved."""

    rule: str
    label: str
    facts: list[tuple[str, str]]
    related: list[Referral]
    cleared: bool


def flag_views(referral: Referral) -> list[FlagView]:
    views = []
    for flag in referral.flags or []:
        if not isinstance(flag, dict):
            continue
        rule = str(flag.get("rule", ""))
        raw = flag.get("evidence")
        evidence: dict[str, Any] = raw if isinstance(raw, dict) else {}
        facts = [
            (str(EVIDENCE_LABELS.get(key, key)), _text(value))
            for key, value in evidence.items()
            if key != "referrals"
        ]
        others = [str(item) for item in evidence.get("referrals", []) if isinstance(item, str)]
        related = list(
            Referral.objects.filter(public_id__in=others[:20])
            .exclude(pk=referral.pk)
            .select_related("broker", "person")
            .order_by("referred_at")
        )
        views.append(
            FlagView(
                rule=rule,
                label=str(RULE_LABELS.get(rule, rule)),
                facts=facts,
                related=related,
                cleared=bool(flag.get("cleared")),
            )
        )
    return views


# ---- held commissions -----------------------------------------------------------------------------------


@never_cache
@ops_page
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The review queue: commissions held because their referral was flagged, with the evidence."""
    held: QuerySet[Commission] = commissions_held()
    items = [
        {"commission": commission, "flags": flag_views(commission.referral)}
        for commission in held[:HELD_PAGE]
    ]
    context = {"items": items, "held_count": held.count(), "section": "held"}
    return render(request, "referrals/ops/home.html", context)


@ops_page
@require_POST
def commission_decide_view(request: HttpRequest, commission_id: str) -> HttpResponse:
    commission = Commission.objects.filter(public_id=str(commission_id)[:32]).first()
    if commission is None:
        raise Http404
    decision = request.POST.get("decision", "")
    if decision not in ("approve", "reject"):
        messages.error(request, _("Choose approve or reject."))
        return redirect("referrals-ops:home")
    try:
        commission_decide(
            commission=commission,
            actor=request.user,
            approve=decision == "approve",
            note=str(request.POST.get("note", ""))[:200],
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if decision == "approve":
            messages.success(request, _("Approved: the commission will be paid once its hold ends."))
        else:
            messages.success(request, _("Rejected: the commission will not be paid."))
    return redirect("referrals-ops:home")


# ---- tasks ------------------------------------------------------------------------------------------


TASK_FIELDS = (
    "title",
    "description",
    "goal",
    "kind",
    "model",
    "city",
    "amount_yuan",
    "budget_yuan",
    "target_count",
    "starts_on",
    "ends_on",
)


def _yuan_to_fen(text: str, field: str) -> int:
    cleaned = text.strip().replace(",", "").replace("¥", "")
    whole, _dot, fraction = cleaned.partition(".")
    if not whole.isdigit() or len(whole) > 12 or (fraction and (not fraction.isdigit() or len(fraction) > 2)):
        raise field_error("invalid", field, _("Enter an amount in yuan, such as 200 or 199.50."))
    return int(whole) * 100 + int((fraction or "0").ljust(2, "0"))


def _day(text: str, field: str, *, end: bool = False) -> datetime:
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        day = None
    if day is None or not year_in_range(day.year):
        raise field_error("invalid", field, _("Enter a date as YYYY-MM-DD."))
    # A task runs whole days in Shanghai: from the first day's midnight to the end of the last day.
    moment = datetime.combine(day, time.min, tzinfo=SHANGHAI)
    return moment.replace(hour=23, minute=59, second=59) if end else moment


def _field_errors(error: DomainError) -> dict[str, str]:
    found: dict[str, str] = {}
    if isinstance(error.details, list):
        for item in error.details:
            if isinstance(item, dict) and item.get("field"):
                field = {"amount": "amount_yuan", "budget": "budget_yuan", "ends_at": "ends_on"}.get(
                    str(item["field"]), str(item["field"])
                )
                found[field] = str(item.get("message") or error.message)
    return found


def _task_create_from(request: HttpRequest, values: dict[str, str]) -> Any:
    city = None
    if values["city"]:
        city = City.objects.filter(code=values["city"]).first()
        if city is None:
            raise field_error("invalid", "city", _("No such city."))
    target = values["target_count"].strip()
    if target and not target.isdigit():
        raise field_error("invalid", "target_count", _("Enter a whole number of results."))
    return task_create(
        actor=request.user,
        title=values["title"],
        description=values["description"],
        goal=values["goal"],
        kind=values["kind"] or None,
        model_code=values["model"],
        city=city,
        amount_fen=_yuan_to_fen(values["amount_yuan"], "amount_yuan"),
        budget_fen=_yuan_to_fen(values["budget_yuan"], "budget_yuan"),
        target_count=int(target or 0),
        starts_at=_day(values["starts_on"], "starts_on"),
        ends_at=_day(values["ends_on"], "ends_on", end=True),
        publish=request.POST.get("publish", "") == "1",
    )


@never_cache
@ops_page
@require_http_methods(["GET", "POST"])
def tasks(request: HttpRequest) -> HttpResponse:
    """Every task with its results and money; a form to publish a new one."""
    today = clock.now().astimezone(SHANGHAI).date()
    values = {field: "" for field in TASK_FIELDS}
    values.update(starts_on=today.isoformat(), goal=TaskGoal.TEST_DRIVE)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {field: str(request.POST.get(field, ""))[:500] for field in TASK_FIELDS}
        try:
            created = _task_create_from(request, values)
        except DomainError as error:
            errors = _field_errors(error) or {"general": error.message}
            status = 422
        else:
            if created.status == TaskStatus.PUBLISHED:
                messages.success(request, _("Task published: brokers see it on their task board."))
            else:
                messages.success(request, _("Task saved as a draft."))
            return redirect("referrals-ops:task", created.public_id)
    context = {
        "summaries": tasks_for_ops(),
        "values": values,
        "errors": errors,
        "goals": TaskGoal.choices,
        "kinds": CommissionKind.choices,
        "models": VehicleModel.objects.order_by("code"),
        "cities": City.objects.order_by("code"),
        "section": "tasks",
    }
    return render(request, "referrals/ops/tasks.html", context, status=status)


def _ops_task(task_id: str) -> Any:
    try:
        return task_get(public_id=task_id)
    except DomainError:
        raise Http404 from None


@never_cache
@ops_page
@require_GET
def task(request: HttpRequest, task_id: str) -> HttpResponse:
    found = _ops_task(task_id)
    summary = next((item for item in tasks_for_ops() if item.task.pk == found.pk), None)
    context = {
        "task": found,
        "summary": summary,
        "results": task_results(found)[:500],
        "section": "tasks",
    }
    return render(request, "referrals/ops/task.html", context)


@ops_page
@require_POST
def task_change(request: HttpRequest, task_id: str, action: str) -> HttpResponse:
    found = _ops_task(task_id)
    try:
        if action == "publish":
            task_publish(task=found, actor=request.user)
            messages.success(request, _("Task published."))
        elif action == "close":
            task_close(task=found, actor=request.user)
            messages.success(request, _("Task closed: it counts no more results."))
        else:
            raise Http404
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("referrals-ops:task", found.public_id)


# ---- statements and payouts --------------------------------------------------------------------------


@never_cache
@ops_page
@require_GET
def statements(request: HttpRequest) -> HttpResponse:
    """A month's statements: brokers still to state (a preview of each) and those issued, to pay."""
    this_month = month_first(clock.now())
    default = month_before(this_month)
    try:
        month = month_first(request.GET["month"]) if request.GET.get("month") else default
    except DomainError:
        month = default
    if month > this_month:
        month = this_month
    months = [this_month]
    while len(months) < 12:
        months.append(month_before(months[-1]))
    issued = list(statements_for_month(month))
    context = {
        "month": month,
        "month_label": month_label(month),
        "months": [month_label(item) for item in months],
        "due": statement_drafts_due(month=month),
        "issued": issued,
        "to_pay": sum(item.net_fen for item in issued if statement_is_payable(item)),
        "section": "statements",
    }
    return render(request, "referrals/ops/statements.html", context)


@ops_page
@require_POST
def statements_issue(request: HttpRequest) -> HttpResponse:
    month_text = str(request.POST.get("month", ""))[:7]
    try:
        issued = statements_issue_for_month(month=month_text, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("referrals-ops:statements")
    messages.success(
        request,
        _("%(count)s statements issued for %(month)s.") % {"count": len(issued), "month": month_text},
    )
    return redirect(f"{reverse('referrals-ops:statements')}?month={month_text}")


def _ops_statement(statement_id: str) -> Statement:
    try:
        return statement_get(public_id=statement_id)
    except DomainError:
        raise Http404 from None


@never_cache
@ops_page
@require_GET
def statement(request: HttpRequest, statement_id: str) -> HttpResponse:
    found = _ops_statement(statement_id)
    context = {**statement_context(found), "payable": statement_is_payable(found), "section": "statements"}
    return render(request, "referrals/ops/statement.html", context)


@ops_page
@require_POST
def payout(request: HttpRequest, statement_id: str) -> HttpResponse:
    found = _ops_statement(statement_id)
    try:
        payout_record(
            statement=found, reference=str(request.POST.get("reference", ""))[:200], actor=request.user
        )
    except DomainError as error:
        fields = _field_errors(error)
        messages.error(request, next(iter(fields.values())) if fields else error.message)
    else:
        messages.success(request, _("Payout recorded: the statement is paid."))
    return redirect("referrals-ops:statement", found.public_id)


@ops_page
@require_GET
def statement_download(request: HttpRequest, statement_id: str, fmt: str) -> HttpResponseBase:
    if fmt not in ("csv", "xlsx"):
        raise Http404
    return statement_download_response(_ops_statement(statement_id), fmt)
