"""The public JSON API at /api/v1/: every app's router, one error shape for every failure."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from forecourt.accounts.api import router as accounts_router
from forecourt.appointments.api import router as appointments_router
from forecourt.appointments.api import slots_router as appointment_slots_router
from forecourt.appointments.api import workspace_router as appointments_workspace_router
from forecourt.catalog.api import configurations_router
from forecourt.catalog.api import router as catalog_router
from forecourt.core.errors import CoreErrorCode, DomainError
from forecourt.dealers.api import router as dealers_router
from forecourt.leads.api import kpi_router as leads_kpi_router
from forecourt.leads.api import ops_router as leads_ops_router
from forecourt.leads.api import public_router as leads_router
from forecourt.leads.api import workspace_router as leads_workspace_router
from forecourt.loyalty.api import router as loyalty_router
from forecourt.loyalty.api_rewards import router as loyalty_rewards_router
from forecourt.offers.api import campaigns_router as offers_campaigns_router
from forecourt.offers.api import vouchers_router as offers_vouchers_router
from forecourt.offers.api_staff import router as offers_staff_router
from forecourt.offers.api_subsidies import router as offers_subsidies_router
from forecourt.orders.api import editions_router as orders_editions_router
from forecourt.orders.api import router as orders_router
from forecourt.orders.api import workspace_router as orders_workspace_router
from forecourt.payments.api import ops_router as payments_ops_router
from forecourt.payments.api import router as payments_router
from forecourt.referrals.api import router as referrals_router
from forecourt.referrals.api_programme import router as referrals_programme_router

api = NinjaAPI(
    title="Forecourt API",
    version="1",
    urls_namespace="api",
)


def _error(request: HttpRequest, status: int, code: str, message: str, details: Any = None) -> HttpResponse:
    response = api.create_response(
        request, {"code": code, "message": message, "details": details}, status=status
    )
    if status == 429 and isinstance(details, dict) and "retry_after" in details:
        response["Retry-After"] = str(details["retry_after"])
    return response


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.message, exc.details)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields = []
    for error in exc.errors:
        location = [
            str(part) for part in error.get("loc", ()) if part not in ("body", "payload", "query", "path")
        ]
        fields.append({"field": ".".join(location) or None, "message": error.get("msg", "")})
    return _error(request, 422, CoreErrorCode.INVALID, _("The request is not valid."), fields)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, CoreErrorCode.NOT_FOUND, _("Not found."))


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, CoreErrorCode.NOT_AUTHENTICATED, _("Sign in first."))


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = {
        400: CoreErrorCode.INVALID,
        401: CoreErrorCode.NOT_AUTHENTICATED,
        403: CoreErrorCode.FORBIDDEN,
        404: CoreErrorCode.NOT_FOUND,
        429: CoreErrorCode.RATE_LIMITED,
    }.get(exc.status_code, "error")
    return _error(request, exc.status_code, code, str(exc.message))


api.add_router("/", accounts_router)
api.add_router("/catalog", catalog_router)
api.add_router("/configurations", configurations_router)
api.add_router("/dealers", dealers_router)
# Two routers may share a prefix: appointments adds /dealers/{id}/slots beside the dealers app's routes.
api.add_router("/dealers", appointment_slots_router)
api.add_router("/appointments", appointments_router)
api.add_router("/workspace", appointments_workspace_router)
api.add_router("/leads", leads_router)
api.add_router("/workspace/leads", leads_workspace_router)
api.add_router("/workspace/kpi", leads_kpi_router)
api.add_router("/ops/leads", leads_ops_router)
api.add_router("/payments", payments_router)
api.add_router("/ops/payments", payments_ops_router)
api.add_router("/orders", orders_router)
api.add_router("/editions", orders_editions_router)
api.add_router("/workspace/orders", orders_workspace_router)
api.add_router("/campaigns", offers_campaigns_router)
# The holder's vouchers and the staff write-off share /vouchers.
api.add_router("/vouchers", offers_staff_router)
api.add_router("/vouchers", offers_vouchers_router)
api.add_router("/subsidies", offers_subsidies_router)
api.add_router("/members", loyalty_router)
api.add_router("/rewards", loyalty_rewards_router)
api.add_router("/broker", referrals_router)
api.add_router("/broker", referrals_programme_router)
