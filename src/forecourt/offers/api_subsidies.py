"""Subsidy programme API (mounted at /api/v1/subsidies).

- `GET ""`: programmes taking applications (public).
- `POST "/{id}/applications"` (multipart: the fields and the `certificate` file): apply → 201.
- `GET "/applications"`: my applications. `POST "/applications/{id}/withdraw"`: withdraw one.
- ops: `POST "/applications/{id}/decision"` `{"approve": bool, "reason"}`, `GET "/{id}/report.csv"`,
  `GET "/{id}/report.xlsx"`.

An application's ID number is never sent back: only its document type and last four characters.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from pydantic import Field

from forecourt.accounts.auth import api_auth, request_user
from forecourt.accounts.models import Role, User
from forecourt.core.errors import CoreErrorCode, DomainError, NotFound
from forecourt.core.exports import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE
from forecourt.offers import reports, selectors
from forecourt.offers.models import SubsidyApplication, SubsidyProgramme
from forecourt.offers.presenters import application_voucher, money_out
from forecourt.offers.services import subsidy_apply, subsidy_decide, subsidy_withdraw
from forecourt.offers.services.subsidies import application_get

router = Router(tags=["offers"])


def programme_out(programme: SubsidyProgramme) -> dict[str, Any]:
    campaign = programme.campaign
    pool = campaign.budget_fen or 0
    return {
        "id": programme.public_id,
        "name": programme.display_name,
        "description": programme.display_description,
        "sponsor": programme.sponsor,
        "city": programme.city.code if programme.city else None,
        "amount": money_out(programme.amount_fen),
        "pool": money_out(pool),
        "remaining": money_out(pool - campaign.claimed_fen),
        "opens_at": programme.opens_at.isoformat(),
        "closes_at": programme.closes_at.isoformat(),
        "eligible_models": list(campaign.eligible_models),
    }


def application_out(application: SubsidyApplication) -> dict[str, Any]:
    voucher = application_voucher(application)
    return {
        "id": application.public_id,
        "programme": application.programme.public_id,
        "status": application.status,
        "full_name": application.full_name,
        "id_document": {"type": application.id_type, "last4": application.id_number_last4},
        "scrapped_plate": application.scrapped_plate,
        "certificate_number": application.certificate_number,
        "intended_model": application.intended_model.code,
        "intended_trim": application.intended_trim.code if application.intended_trim else None,
        "submitted_at": application.submitted_at.isoformat(),
        "decided_at": application.decided_at.isoformat() if application.decided_at else None,
        "reason": application.reject_reason or None,
        "voucher": {
            "code": voucher.code,
            "status": voucher.status,
            "value": money_out(voucher.face_value_fen),
        }
        if voucher
        else None,
    }


def _ops(request: HttpRequest) -> User:
    user = request_user(request)
    if user.role != Role.OPS:
        raise DomainError(CoreErrorCode.FORBIDDEN, _("Only OEM operations may do this."), status=403)
    return user


def _programme(public_id: str) -> SubsidyProgramme:
    programme = selectors.subsidy_programme_find(public_id)
    if programme is None:
        raise NotFound(_("No such subsidy programme."))
    return programme


@router.get("", response=list[dict], summary="Subsidy programmes taking applications")
def programmes_list(request: HttpRequest) -> Any:
    return [programme_out(programme) for programme in selectors.subsidy_programmes_open()]


@router.get("/applications", response=list[dict], auth=api_auth, summary="My subsidy applications")
def applications_mine(request: HttpRequest) -> Any:
    user = request_user(request)
    return [application_out(application) for application in selectors.subsidy_applications_of(user)]


@router.post(
    "/{programme_id}/applications",
    response={201: dict},
    auth=api_auth,
    summary="Apply for a subsidy (multipart/form-data with the certificate file)",
)
def application_create(
    request: HttpRequest,
    programme_id: str,
    full_name: Form[str] = "",
    id_type: Form[str] = "",
    id_number: Form[str] = "",
    scrapped_plate: Form[str] = "",
    certificate_number: Form[str] = "",
    intended_model: Form[str] = "",
    intended_trim: Form[str] = "",
    certificate: File[UploadedFile | None] = None,
) -> Any:
    user = request_user(request)
    programme = _programme(programme_id)
    application = subsidy_apply(
        programme=programme,
        applicant=user,
        full_name=full_name,
        id_type=id_type,
        id_number=id_number,
        scrapped_plate=scrapped_plate,
        certificate_number=certificate_number,
        certificate=certificate,
        intended_model_code=intended_model,
        intended_trim_code=intended_trim,
    )
    return 201, application_out(application)


class DecisionIn(Schema):
    approve: bool
    reason: str = Field(default="", max_length=300)


@router.post(
    "/applications/{application_id}/decision", response=dict, auth=api_auth, summary="Approve or reject (ops)"
)
def application_decide(request: HttpRequest, application_id: str, payload: DecisionIn) -> Any:
    actor = _ops(request)
    application = application_get(public_id=application_id, viewer=actor)
    decided = subsidy_decide(
        application=application, actor=actor, approve=payload.approve, reason=payload.reason
    )
    decided = application_get(public_id=decided.public_id, viewer=actor)
    return application_out(decided)


@router.post(
    "/applications/{application_id}/withdraw", response=dict, auth=api_auth, summary="Withdraw my application"
)
def application_withdraw(request: HttpRequest, application_id: str) -> Any:
    user = request_user(request)
    application = application_get(public_id=application_id, viewer=user)
    subsidy_withdraw(application=application, actor=user)
    return application_out(application_get(public_id=application_id, viewer=user))


def csv_response(programme: SubsidyProgramme) -> StreamingHttpResponse:
    response = StreamingHttpResponse(reports.report_csv_lines(programme), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{programme.public_id}-report.csv"'
    return response


def xlsx_response(programme: SubsidyProgramme) -> HttpResponse:
    response = HttpResponse(reports.report_xlsx(programme), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{programme.public_id}-report.xlsx"'
    return response


@router.get("/{programme_id}/report.csv", auth=api_auth, summary="Audit report as CSV (ops)")
def report_csv(request: HttpRequest, programme_id: str) -> Any:
    _ops(request)
    return csv_response(_programme(programme_id))


@router.get("/{programme_id}/report.xlsx", auth=api_auth, summary="Audit report as Excel (ops)")
def report_xlsx(request: HttpRequest, programme_id: str) -> Any:
    _ops(request)
    return xlsx_response(_programme(programme_id))
