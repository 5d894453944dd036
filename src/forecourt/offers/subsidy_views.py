"""Subsidy pages: programmes taking applications, the application form, my applications, and the ops review.

The form posts multipart with CSRF; a refused application comes back with each field's error beside the
field and the ID number field left empty (it is never echoed back). Ops pages answer 404 to anyone but
ops, exactly like an unknown address; the certificate is served only through `ops_certificate`, which
checks the role and audits the viewing (never a public media URL).
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from forecourt.accounts.models import Role, User
from forecourt.catalog.models import VehicleModel
from forecourt.core.audit import audit_record
from forecourt.core.errors import DomainError
from forecourt.core.money import Money
from forecourt.offers import reports, selectors
from forecourt.offers.api_subsidies import csv_response, xlsx_response
from forecourt.offers.models import (
    ApplicationStatus,
    IdDocumentType,
    SubsidyApplication,
    SubsidyProgramme,
)
from forecourt.offers.presenters import application_voucher
from forecourt.offers.services import subsidy_apply, subsidy_decide, subsidy_withdraw
from forecourt.offers.services.subsidies import application_get, id_masked, programme_is_open

FORM_FIELDS = (
    "full_name",
    "id_type",
    "scrapped_plate",
    "certificate_number",
    "intended_model",
    "intended_trim",
)
# The service names some fields after its arguments; the form names them after its inputs.
FIELD_ALIASES = {"intended_model_code": "intended_model", "intended_trim_code": "intended_trim"}
PAGE_SIZE = 50


def _error_fields(error: DomainError) -> dict[str, str]:
    details = error.details
    if isinstance(details, list):
        found = {}
        for item in details:
            if isinstance(item, dict) and item.get("field"):
                field = str(item["field"])
                found[FIELD_ALIASES.get(field, field)] = str(item.get("message") or error.message)
        if found:
            return found
    return {}


def _programme_or_404(public_id: str) -> Any:
    programme = selectors.subsidy_programme_find(public_id)
    if programme is None:
        raise Http404
    return programme


def _eligible_models(programme: Any) -> list[VehicleModel]:
    codes = programme.campaign.eligible_models
    queryset = VehicleModel.objects.all()
    if codes:
        queryset = queryset.filter(code__in=codes)
    return list(queryset)


# ---- Consumer pages ---------------------------------------------------------------------------------


@require_GET
def programmes(request: HttpRequest) -> HttpResponse:
    open_programmes = [
        {
            "programme": programme,
            "amount": Money(programme.amount_fen),
            "remaining": Money((programme.campaign.budget_fen or 0) - programme.campaign.claimed_fen),
        }
        for programme in selectors.subsidy_programmes_open()
    ]
    return render(request, "offers/subsidy/programmes.html", {"programmes": open_programmes})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, programme_id: str) -> HttpResponse:
    programme = _programme_or_404(programme_id)
    values: dict[str, str] = {field: "" for field in FORM_FIELDS}
    errors: dict[str, str] = {}
    general_error = ""
    status = 200
    if request.method == "POST":
        values = {field: str(request.POST.get(field, ""))[:200] for field in FORM_FIELDS}
        try:
            subsidy_apply(
                programme=programme,
                applicant=request.user,  # type: ignore[arg-type]
                full_name=values["full_name"],
                id_type=values["id_type"],
                id_number=str(request.POST.get("id_number", ""))[:40],
                scrapped_plate=values["scrapped_plate"],
                certificate_number=values["certificate_number"],
                certificate=request.FILES.get("certificate"),
                intended_model_code=values["intended_model"],
                intended_trim_code=values["intended_trim"],
            )
        except DomainError as error:
            errors = _error_fields(error)
            if not errors:
                general_error = error.message
            status = 422 if errors else error.status
        else:
            messages.success(
                request, _("Your application has been submitted. We will let you know the decision.")
            )
            return redirect("subsidies:mine")
    context = {
        "programme": programme,
        "is_open": programme_is_open(programme),
        "amount": Money(programme.amount_fen),
        "models": _eligible_models(programme),
        "id_types": IdDocumentType.choices,
        "values": values,
        "errors": errors,
        "general_error": general_error,
    }
    return render(request, "offers/subsidy/apply.html", context, status=status)


@never_cache
@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    rows = []
    for application in selectors.subsidy_applications_of(request.user):  # type: ignore[arg-type]
        voucher = application_voucher(application)
        rows.append(
            {
                "application": application,
                "id_masked": id_masked(id_type=application.id_type, last4=application.id_number_last4),
                "voucher": voucher,
                "amount": Money(application.programme.amount_fen),
            }
        )
    return render(request, "offers/subsidy/mine.html", {"rows": rows})


@login_required
@require_POST
def withdraw(request: HttpRequest, application_id: str) -> HttpResponse:
    try:
        person = cast(User, request.user)
        application = application_get(public_id=application_id, viewer=person)
        if application.applicant_id != person.pk:
            raise Http404
        subsidy_withdraw(application=application, actor=person)
    except DomainError as error:
        if error.status == 404:
            raise Http404 from None
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your application has been withdrawn."))
    return redirect("subsidies:mine")


# ---- Ops review -------------------------------------------------------------------------------------


def _require_ops(request: HttpRequest) -> None:
    user: Any = request.user
    if not user.is_authenticated or user.role != Role.OPS:
        # Same answer as an address that does not exist: the review pages are not advertised.
        raise Http404


@never_cache
@login_required
@require_GET
def ops_list(request: HttpRequest) -> HttpResponse:
    _require_ops(request)
    all_programmes = list(SubsidyProgramme.objects.select_related("campaign").order_by("-opens_at"))
    chosen = None
    wanted = request.GET.get("programme", "")
    if wanted:
        chosen = next((p for p in all_programmes if p.public_id == wanted), None)
    elif all_programmes:
        chosen = all_programmes[0]
    status = request.GET.get("status", ApplicationStatus.SUBMITTED)
    if status not in ApplicationStatus.values and status != "all":
        status = ApplicationStatus.SUBMITTED
    page = None
    summary = None
    if chosen is not None:
        queryset = selectors.subsidy_applications_for_review(
            programme=chosen, status="" if status == "all" else status
        )
        page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
        summary = reports.report_summary(chosen)
    context = {
        "programmes": all_programmes,
        "programme": chosen,
        "status": status,
        "statuses": ApplicationStatus.choices,
        "page": page,
        "summary": summary,
        "money": {
            key: Money(getattr(summary, key))
            for key in ("pool_fen", "granted_fen", "used_fen", "remaining_fen")
        }
        if summary
        else {},
    }
    return render(request, "offers/subsidy/ops_list.html", context)


@never_cache
@login_required
@require_GET
def ops_detail(request: HttpRequest, application_id: str) -> HttpResponse:
    _require_ops(request)
    application = _ops_application(request, application_id)
    voucher = application_voucher(application)
    context = {
        "application": application,
        "id_masked": id_masked(id_type=application.id_type, last4=application.id_number_last4),
        "voucher": voucher,
        "amount": Money(application.programme.amount_fen),
    }
    return render(request, "offers/subsidy/ops_detail.html", context)


def _ops_application(request: HttpRequest, application_id: str) -> SubsidyApplication:
    try:
        return application_get(public_id=application_id, viewer=request.user)  # type: ignore[arg-type]
    except DomainError:
        raise Http404 from None


@login_required
@require_POST
def ops_decide(request: HttpRequest, application_id: str) -> HttpResponse:
    _require_ops(request)
    application = _ops_application(request, application_id)
    decision = request.POST.get("decision", "")
    if decision not in ("approve", "reject"):
        messages.error(request, _("Choose approve or reject."))
        return redirect("subsidies:ops-detail", application.public_id)
    try:
        subsidy_decide(
            application=application,
            actor=request.user,  # type: ignore[arg-type]
            approve=decision == "approve",
            reason=str(request.POST.get("reason", ""))[:400],
        )
    except DomainError as error:
        details = _error_fields(error)
        messages.error(request, next(iter(details.values())) if details else error.message)
        return redirect("subsidies:ops-detail", application.public_id)
    if decision == "approve":
        messages.success(request, _("Approved: the subsidy voucher has been issued."))
    else:
        messages.success(request, _("Rejected: the applicant sees your reason."))
    return redirect(f"{reverse('subsidies:ops')}?programme={application.programme.public_id}")


@never_cache
@login_required
@require_GET
def ops_certificate(request: HttpRequest, application_id: str) -> HttpResponseBase:
    _require_ops(request)
    application = _ops_application(request, application_id)
    if not application.certificate:
        raise Http404
    try:
        handle = application.certificate.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    audit_record(
        actor=request.user,
        action="subsidy.certificate_viewed",
        object_type="subsidy_application",
        object_id=application.public_id,
    )
    extension = (application.certificate.name or "").rsplit(".", 1)[-1]
    response = FileResponse(
        handle,
        content_type=application.certificate_content_type or "application/octet-stream",
        filename=f"{application.public_id}.{extension}",
    )
    # Shown in the browser, never cached by a shared cache, never sniffed as something else.
    response["Content-Disposition"] = f'inline; filename="{application.public_id}.{extension}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return response


@login_required
@require_GET
def ops_report(request: HttpRequest, programme_id: str, fmt: str) -> HttpResponseBase:
    _require_ops(request)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    programme = _programme_or_404(programme_id)
    audit_record(
        actor=request.user,
        action="subsidy.report_downloaded",
        object_type="subsidy_programme",
        object_id=programme.public_id,
        details={"format": fmt},
    )
    if fmt == "csv":
        return csv_response(programme)
    return xlsx_response(programme)
