"""Lead pages: the dealer workspace (inbox, lead, KPIs) and the consumer inquiry form's endpoint.

Workspace pages are for dealer sales staff (and ops, who see every dealer). Each lead is fetched
through the tenant-scoping selector, so another dealer's lead id is a 404. Actions post a form,
call one service and come back to the lead page (htmx swaps the parts it can).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from forecourt.accounts.models import User
from forecourt.catalog.models import VehicleModel
from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.middleware import client_ip
from forecourt.core.phones import normalise_mainland_mobile
from forecourt.dealers.models import Dealer
from forecourt.leads import selectors
from forecourt.leads.access import is_lead_staff, is_manager, is_ops, lead_may_reveal_phone
from forecourt.leads.forms import (
    AssignForm,
    ContactAttemptForm,
    DefeatRequestForm,
    DefeatReviewForm,
    FollowUpForm,
    InboxFilterForm,
    InquiryForm,
    KpiPeriodForm,
    MoveForm,
    StaffEntryForm,
)
from forecourt.leads.kpi import dealer_kpi_report
from forecourt.leads.models import (
    ALLOWED_TRANSITIONS,
    MANUAL_TARGETS,
    PIPELINE_ORDER,
    DefeatReason,
    Lead,
    LeadStatus,
)
from forecourt.leads.referral_mark import referral_mark_read
from forecourt.leads.services import (
    contact_attempt_log,
    defeat_review,
    lead_assign,
    lead_capture,
    lead_claim,
    lead_defeat_request,
    lead_follow_up_schedule,
    lead_phone_reveal,
    lead_staff_entry_record,
    lead_transition,
)
from forecourt.leads.throttle import inquiry_throttle_ip, inquiry_throttle_phone

INBOX_PAGE_SIZE = 30


def workspace_staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in dealer sales staff or ops; anyone else signed in gets a 403, visitors the sign-in page."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (is_lead_staff(request.user) or is_ops(request.user)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _staff(request: HttpRequest) -> User:
    # Behind `workspace_staff_required` the user is a signed-in User (dealer sales staff or ops).
    return cast(User, request.user)


def _lead_or_404(request: HttpRequest, public_id: str) -> Lead:
    try:
        return selectors.lead_get_for_staff(user=request.user, public_id=public_id)
    except DomainError:
        raise Http404 from None


def _error_text(error: DomainError) -> str:
    details = error.details
    if isinstance(details, list) and details and isinstance(details[0], dict) and details[0].get("message"):
        return str(details[0]["message"])
    return error.message


def _back_to(public_id: str) -> HttpResponse:
    return redirect("leads:workspace-detail", public_id=public_id)


# ---- Inbox ---------------------------------------------------------------------------------------------


@never_cache
@require_GET
@workspace_staff_required
def inbox(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    now = clock.now()
    filters = InboxFilterForm(request.GET or None)
    chosen: dict[str, Any] = filters.cleaned_data if filters.is_valid() else {}
    leads = selectors.lead_list_for_staff(
        user=user,
        now=now,
        status=chosen.get("status") or None,
        overdue=True if chosen.get("overdue") else None,
        mine=bool(chosen.get("mine")),
        search=chosen.get("q", ""),
    )
    page = Paginator(leads, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    policy = selectors.sla_policy_current()
    due_soon = timedelta(minutes=policy.due_soon_minutes)
    rows = [{"lead": lead, "sla_state": lead.sla_state(now, due_soon=due_soon)} for lead in page.object_list]
    overdue_count = selectors.leads_for_staff(user).filter(selectors.overdue_filter(now)).count()
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "leads/inbox.html",
        {
            "rows": rows,
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "overdue_count": overdue_count,
            "due_soon_seconds": policy.due_soon_minutes * 60,
            "pending_defeats": list(selectors.defeat_reviews_pending(user=user)) if is_manager(user) else [],
            "is_ops": is_ops(user),
            "dealer": getattr(user, "dealer", None),
        },
    )


# ---- One lead --------------------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, lead: Lead, **extra: Any) -> dict[str, Any]:
    user = _staff(request)
    now = clock.now()
    moves = [
        status
        for status in PIPELINE_ORDER
        if status in MANUAL_TARGETS and status in ALLOWED_TRANSITIONS.get(lead.status, frozenset())
    ]
    attempts = list(lead.contact_attempts.filter(dealer=lead.dealer).select_related("staff"))
    works_the_lead = (
        lead.dealer_id is not None
        and (is_manager(user) or (lead.advisor_id is not None and lead.advisor_id == user.pk))
        and getattr(user, "dealer_id", None) == lead.dealer_id
    )
    due_soon_minutes = selectors.sla_policy_current().due_soon_minutes
    context = {
        "lead": lead,
        "sla_state": lead.sla_state(now, due_soon=timedelta(minutes=due_soon_minutes)),
        "due_soon_seconds": due_soon_minutes * 60,
        "can_claim": is_lead_staff(user)
        and lead.advisor_id is None
        and lead.is_open
        and lead.status != LeadStatus.OEM_QUEUE,
        "can_reveal": lead_may_reveal_phone(lead=lead, user=user),
        "works_the_lead": works_the_lead and lead.is_open,
        "is_manager": is_manager(user) and getattr(user, "dealer_id", None) == lead.dealer_id,
        "moves": [(status, LeadStatus(status).label) for status in moves],
        "attempts": attempts,
        "touchpoints": list(lead.touchpoints.order_by("occurred_at", "id")),
        "routing": [
            decision
            for decision in lead.routing_decisions.order_by("decided_at", "id")
            if is_ops(user) or decision.dealer_id == lead.dealer_id
        ],
        "pending_defeat": selectors.defeat_review_pending_for(lead=lead),
        "can_request_defeat": bool(attempts)
        and LeadStatus.DEFEATED in ALLOWED_TRANSITIONS.get(lead.status, ()),
        "advisors": selectors.dealer_advisors(dealer_id=lead.dealer_id) if lead.dealer_id else [],
        "call_form": ContactAttemptForm(),
        "follow_up_form": FollowUpForm(),
        "defeat_form": DefeatRequestForm(),
        "defeat_reasons": DefeatReason.choices,
        "revealed_phone": None,
    }
    context.update(extra)
    return context


@never_cache
@require_GET
@workspace_staff_required
def detail(request: HttpRequest, public_id: str) -> HttpResponse:
    lead = _lead_or_404(request, public_id)
    return render(request, "leads/detail.html", _detail_context(request, lead))


def _lead_action(
    perform: Callable[[HttpRequest, Lead], str | None],
) -> Callable[[HttpRequest, str], HttpResponse]:
    """POST on one lead: scope it, run the service, flash the outcome, go back to the lead page."""

    @require_POST
    @workspace_staff_required
    @wraps(perform)
    def view(request: HttpRequest, public_id: str) -> HttpResponse:
        lead = _lead_or_404(request, public_id)
        try:
            done = perform(request, lead)
        except DomainError as error:
            if error.status == 404:
                raise Http404 from None
            messages.error(request, _error_text(error))
        else:
            if done:
                messages.success(request, done)
        return _back_to(lead.public_id)

    return view


@_lead_action
def claim(request: HttpRequest, lead: Lead) -> str:
    lead_claim(lead=lead, actor=_staff(request))
    return _("The lead is yours. Call within the deadline.")


@_lead_action
def log_call(request: HttpRequest, lead: Lead) -> str | None:
    form = ContactAttemptForm(request.POST)
    if not form.is_valid():
        raise DomainError("invalid", _("Choose the outcome of the call."), status=422)
    contact_attempt_log(
        lead=lead, actor=_staff(request), outcome=form.cleaned_data["outcome"], note=form.cleaned_data["note"]
    )
    return _("Call logged.")


@_lead_action
def follow_up(request: HttpRequest, lead: Lead) -> str:
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        raise DomainError("invalid", _("Choose a date and time."), status=422)
    at = form.cleaned_data["at"]
    if at.tzinfo is None:
        at = at.replace(tzinfo=clock.SHANGHAI)
    lead_follow_up_schedule(lead=lead, actor=_staff(request), at=at, note=form.cleaned_data["note"])
    return _("Follow-up scheduled.")


@_lead_action
def move(request: HttpRequest, lead: Lead) -> str:
    form = MoveForm(request.POST)
    if not form.is_valid():
        raise DomainError("invalid", _("Unknown status."), status=422)
    moved = lead_transition(lead=lead, to_status=form.cleaned_data["status"], actor=_staff(request))
    return _("Moved to “%(status)s”.") % {"status": LeadStatus(moved.status).label}


@_lead_action
def request_defeat(request: HttpRequest, lead: Lead) -> str:
    form = DefeatRequestForm(request.POST)
    if not form.is_valid():
        raise DomainError(
            "invalid", _("Choose a reason and describe the evidence (at least 10 characters)."), status=422
        )
    lead_defeat_request(
        lead=lead,
        actor=_staff(request),
        reason=form.cleaned_data["reason"],
        evidence=form.cleaned_data["evidence"],
    )
    return _("Defeat requested; the manager will review it.")


@_lead_action
def review_defeat(request: HttpRequest, lead: Lead) -> str:
    form = DefeatReviewForm(request.POST)
    if not form.is_valid():
        raise DomainError("invalid", _("Approve or reject."), status=422)
    approve = form.cleaned_data["decision"] == "approve"
    defeat_review(lead=lead, actor=_staff(request), approve=approve, note=form.cleaned_data["note"])
    return (
        _("Defeat approved: the lead is closed.") if approve else _("Defeat rejected: follow-up continues.")
    )


@_lead_action
def assign(request: HttpRequest, lead: Lead) -> str:
    form = AssignForm(request.POST)
    advisor = User.objects.filter(public_id=form.data.get("advisor", "")).first() if form.is_valid() else None
    if advisor is None:
        raise DomainError("invalid", _("Choose a sales advisor of this dealer."), status=422)
    lead_assign(lead=lead, advisor=advisor, actor=_staff(request))
    return _("Assigned to %(name)s.") % {"name": advisor.display_name or advisor.username}


@require_POST
@workspace_staff_required
def reveal_phone(request: HttpRequest, public_id: str) -> HttpResponse:
    """Unmask the number (audited). htmx gets the number's fragment; a plain post gets the lead page."""
    lead = _lead_or_404(request, public_id)
    try:
        number = lead_phone_reveal(lead=lead, actor=_staff(request))
    except DomainError as error:
        if request.headers.get("HX-Request"):
            return render(
                request, "leads/_phone.html", {"lead": lead, "error": _error_text(error)}, status=403
            )
        messages.error(request, _error_text(error))
        return _back_to(lead.public_id)
    national = number[3:] if number.startswith("+86") else number
    if request.headers.get("HX-Request"):
        return render(request, "leads/_phone.html", {"lead": lead, "number": number, "national": national})
    context = _detail_context(request, lead, revealed_phone=national)
    return render(request, "leads/detail.html", context)


# ---- Walk-ins and phone calls entered by staff ------------------------------------------------------------


@never_cache
@workspace_staff_required
def new_entry(request: HttpRequest) -> HttpResponse:
    if not is_lead_staff(request.user):
        raise PermissionDenied
    form = StaffEntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            lead, created = lead_staff_entry_record(
                actor=_staff(request),
                name=data["name"],
                phone=data["phone"],
                model_code=data["model"],
                channel=data["channel"],
                share_with_dealer=data["share_with_dealer"],
                note=data["note"],
            )
        except DomainError as error:
            form.add_error(None, _error_text(error))
        else:
            if lead.dealer_id == _staff(request).dealer_id:
                messages.success(
                    request, _("Lead recorded.") if created else _("Added to the person's open lead.")
                )
                return _back_to(lead.public_id)
            messages.info(request, _("Without consent to share, the OEM's team follows this person up."))
            return redirect("leads:workspace-inbox")
    return render(
        request, "leads/new_entry.html", {"form": form, "models": VehicleModel.objects.filter(is_active=True)}
    )


# ---- KPIs ---------------------------------------------------------------------------------------------


@never_cache
@require_GET
@workspace_staff_required
def kpi(request: HttpRequest) -> HttpResponse:
    form = KpiPeriodForm(request.GET or None)
    start, end = form.period()
    user = _staff(request)
    dealers: list[Dealer] = []
    if is_ops(user):
        dealers = list(Dealer.objects.filter(is_active=True, offers_sales=True).order_by("name"))
        wanted = form.cleaned_data.get("dealer") if form.is_valid() else None
        dealer = next((d for d in dealers if d.public_id == wanted), dealers[0] if dealers else None)
    else:
        dealer = _staff(request).dealer
    report = dealer_kpi_report(dealer=dealer, start=start, end=end, now=clock.now()) if dealer else None
    return render(
        request,
        "leads/kpi.html",
        {
            "form": form,
            "start": start,
            "end": end,
            "dealer": dealer,
            "dealers": dealers,
            "report": report,
            "chart": report.daily if report else [],
        },
    )


# ---- The consumer inquiry form ----------------------------------------------------------------------


@require_POST
def inquiry(request: HttpRequest) -> HttpResponse:
    """The inquiry form (`leads/_inquiry_form.html`) posts here with htmx; the answer replaces the form."""
    form = InquiryForm(request.POST)
    model = VehicleModel.objects.filter(code=request.POST.get("model", ""), is_active=True).first()
    if model is None:
        raise Http404
    error = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            inquiry_throttle_ip(ip=client_ip(request))
            e164 = normalise_mainland_mobile(data["phone"])
            inquiry_throttle_phone(phone_e164=e164)
            # A broker's link opened in this browser credits the broker; a code in the form is kept as is.
            mark = referral_mark_read(request)
            broker_code = data["broker_code"] or (mark.broker_code if mark else "")
            lead, _created = lead_capture(
                name=data["name"],
                phone=e164,
                city_code=data["city"],
                model_code=model.code,
                channel=data["channel"],
                dealer_public_id=data["dealer"] or None,
                campaign=data["campaign"],
                source_site=data["source_site"],
                broker_code=broker_code,
                broker_clicked_at=mark.clicked_at if mark and mark.broker_code == broker_code else None,
                utm=form.utm(),
                landing_page=data["landing_page"],
                message=data["question"],
                share_with_dealer=data["share_with_dealer"],
                consent_method="web",
            )
        except DomainError as failure:
            error = _error_text(failure)
        else:
            return _inquiry_answer(
                request, "leads/_inquiry_result.html", {"lead": lead, "inquiry_model": model}
            )
    else:
        error = _("Check your name, mobile number and city.")
    context = {
        # `model` is what the form gets on a model page (see MODEL_PAGE_INCLUDES); give it here too.
        "model": model,
        "inquiry_model": model,
        "inquiry_channel": form.data.get("channel", "web_price_inquiry"),
        "form": form,
        "inquiry_error": error,
    }
    return _inquiry_answer(request, "leads/_inquiry_form.html", context)


def _inquiry_answer(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    # htmx swaps the fragment in place (a 200 even for a form with errors: htmx leaves 4xx unswapped);
    # without JavaScript the fragment comes in a whole page.
    if request.headers.get("HX-Request"):
        return render(request, template, context)
    return render(request, "leads/inquiry_page.html", {**context, "fragment": template})
