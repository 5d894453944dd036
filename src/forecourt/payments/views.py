"""Pages and endpoints of the payments app: the sandbox payment page and the gateways' notify endpoint."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from forecourt.core.errors import DomainError, NotFound
from forecourt.core.logging import log_context
from forecourt.core.middleware import client_ip
from forecourt.payments.models import NOTIFYING_PROVIDERS, IntentStatus, Provider
from forecourt.payments.providers import provider_get
from forecourt.payments.selectors import payment_intent_for_trade
from forecourt.payments.services import payment_notification_receive, payment_sandbox_choose

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def notify(request: HttpRequest, provider: str) -> HttpResponse:
    """A gateway's asynchronous notification: answered as the gateway expects, never with a 500."""
    if provider not in NOTIFYING_PROVIDERS:
        raise Http404
    try:
        body = request.body
    except RequestDataTooBig:
        body = b""  # verification fails on an empty body: rejected and logged like any garbage
    try:
        outcome = payment_notification_receive(
            provider=provider, headers=request.headers, body=body, ip=client_ip(request)
        )
        return HttpResponse(
            outcome.response_body, status=outcome.response_status, content_type=outcome.content_type
        )
    except Exception:
        # The database is away or a bug: answer "not received" so the gateway delivers it again later.
        logger.exception("payment notification failed", extra=log_context(provider=provider))
        try:
            status, content, content_type = provider_get(provider).acknowledge(accepted=False)
        except Exception:
            status, content, content_type = 400, b"failure", "text/plain"
        return HttpResponse(content, status=status, content_type=content_type)


def _after_choice_url(request: HttpRequest, return_url: str, fallback: str) -> str:
    if return_url and url_has_allowed_host_and_scheme(
        return_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return return_url
    return fallback


@never_cache
@require_http_methods(["GET", "POST"])
def sandbox_page(request: HttpRequest, out_trade_no: str) -> HttpResponseBase:
    """The sandbox gateway's payment page: pay, fail or cancel, then back to the merchant's page."""
    if not provider_get(Provider.SANDBOX).is_configured():
        raise Http404
    try:
        intent = payment_intent_for_trade(provider=Provider.SANDBOX, out_trade_no=out_trade_no)
    except NotFound:
        raise Http404 from None
    page_url = reverse("payments:sandbox-page", args=[intent.out_trade_no])
    error = ""
    status = 200
    if request.method == "POST":
        try:
            payment_sandbox_choose(intent=intent, choice=str(request.POST.get("action", "")))
        except DomainError as failure:
            error, status = failure.message, failure.status
        else:
            return redirect(_after_choice_url(request, intent.return_url, page_url))
        intent.refresh_from_db()
    return render(
        request,
        "payments/sandbox.html",
        {
            "intent": intent,
            "error": error,
            "payable": intent.status == IntentStatus.CREATED,
            "return_url": _after_choice_url(request, intent.return_url, ""),
        },
        status=status,
    )
