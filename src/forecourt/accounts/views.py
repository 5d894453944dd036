"""Account pages: sign in (SMS code or password), sign out, the account page with consents, demo outbox."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from forecourt.accounts.consent_texts import consent_current_version, consent_text
from forecourt.accounts.forms import PasswordSignInForm, SmsSignInForm
from forecourt.accounts.models import ConsentMethod, ConsentPurpose, OutboxMessage, SmsCode
from forecourt.accounts.selectors import consent_states, outbox_recent
from forecourt.accounts.services import (
    SMS_RESEND_SECONDS,
    consent_grant,
    consent_withdraw,
    password_sign_in,
    sms_code_request,
    sms_code_verify,
)
from forecourt.core.errors import DomainError
from forecourt.core.middleware import client_ip
from forecourt.core.phones import InvalidPhone, normalise_mainland_mobile, phone_hash

OUTBOX_LIMIT = 50
_SESSION_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _requested_next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _next_url(request: HttpRequest, user: Any = None) -> str:
    """Where to go after signing in: the page asked for, else the person's own start page by role."""
    requested = _requested_next(request)
    if requested:
        return requested
    role_home = settings.ROLE_HOME_URLS.get(getattr(user, "role", ""), "")
    return reverse(role_home or settings.LOGIN_REDIRECT_URL)


def _error_field(error: DomainError, default: str) -> str:
    details = error.details
    if isinstance(details, dict) and details.get("field") in SmsSignInForm.base_fields:
        return str(details["field"])
    return default


def _sign_in_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    version = consent_current_version(ConsentPurpose.ACCOUNT_TERMS)
    context = {
        "next": _requested_next(request),
        "terms_version": version,
        "terms_text": consent_text(ConsentPurpose.ACCOUNT_TERMS, version),
        "code_valid_minutes": SmsCode.VALID_SECONDS // 60,
        "outbox_url": reverse("accounts:demo-outbox") if settings.DEMO_MODE else None,
    }
    context.update(extra)
    return context


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    method = request.POST.get("method") or request.GET.get("method") or "sms"
    if method not in ("sms", "password"):
        method = "sms"
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(_next_url(request, request.user))
    sms_form = SmsSignInForm(request.POST if request.method == "POST" and method == "sms" else None)
    password_form = PasswordSignInForm(
        request.POST if request.method == "POST" and method == "password" else None
    )
    code_sent = False
    if request.method == "POST" and method == "password" and password_form.is_valid():
        try:
            user = password_sign_in(
                username=password_form.cleaned_data["username"],
                password=password_form.cleaned_data["password"],
                ip=client_ip(request),
            )
        except DomainError as error:
            password_form.add_error(None, error.message)
        else:
            login(request, user, backend=_SESSION_BACKEND)
            return HttpResponseRedirect(_next_url(request, user))
    elif request.method == "POST" and method == "sms" and sms_form.is_valid():
        phone = sms_form.cleaned_data["phone"]
        if request.POST.get("action") == "send-code":
            # Without JavaScript the "send code" button posts the whole form here.
            try:
                sms_code_request(phone=phone, ip=client_ip(request))
            except DomainError as error:
                sms_form.add_error(_error_field(error, "phone"), error.message)
            else:
                code_sent = True
        else:
            try:
                user = sms_code_verify(
                    phone=phone,
                    code=sms_form.cleaned_data["code"],
                    ip=client_ip(request),
                    channel=ConsentMethod.WEB,
                )
            except DomainError as error:
                sms_form.add_error(_error_field(error, "code"), error.message)
            else:
                login(request, user, backend=_SESSION_BACKEND)
                messages.success(request, _("You are signed in."))
                return HttpResponseRedirect(_next_url(request, user))
    context = _sign_in_context(
        request,
        method=method,
        sms_form=sms_form,
        password_form=password_form,
        code_sent=code_sent,
        resend_after=SMS_RESEND_SECONDS,
    )
    return render(request, "accounts/sign_in.html", context)


@require_POST
def send_code(request: HttpRequest) -> HttpResponse:
    """htmx: text a code to the number in the form; answer with the status line that replaces the old one."""
    context: dict[str, Any] = {
        "resend_after": SMS_RESEND_SECONDS,
        "code_valid_minutes": SmsCode.VALID_SECONDS // 60,
    }
    try:
        sms_code_request(phone=request.POST.get("phone", ""), ip=client_ip(request))
    except DomainError as error:
        context["error"] = error.message
    else:
        context["sent"] = True
    # Always 200: htmx swaps only successful responses, and the error is part of the page.
    return render(request, "accounts/_code_status.html", context)


@require_http_methods(["GET", "POST"])
def sign_out(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        logout(request)
        messages.success(request, _("You are signed out."))
        return redirect("web:home")
    return render(request, "accounts/sign_out.html")


@login_required
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    user = request.user
    states = consent_states(user=user)  # type: ignore[arg-type]
    entries = [
        {
            "state": state,
            "text": consent_text(
                state.purpose, state.latest.text_version if state.latest else state.current_version
            ),
            "current_text": consent_text(state.purpose, state.current_version),
        }
        for state in states
    ]
    return render(request, "accounts/account.html", {"profile": user, "consents": entries})


def _purpose_or_404(purpose: str) -> str:
    if purpose not in ConsentPurpose.values:
        raise Http404
    return purpose


@login_required
@require_POST
def consent_withdraw_view(request: HttpRequest, purpose: str) -> HttpResponse:
    try:
        consent_withdraw(
            user=request.user,  # type: ignore[arg-type]
            purpose=_purpose_or_404(purpose),
            method=ConsentMethod.WEB,
            ip=client_ip(request),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your consent is withdrawn. The record of it is kept, marked withdrawn."))
    return redirect("accounts:account")


@login_required
@require_POST
def consent_grant_view(request: HttpRequest, purpose: str) -> HttpResponse:
    try:
        consent_grant(
            user=request.user,  # type: ignore[arg-type]
            purpose=_purpose_or_404(purpose),
            method=ConsentMethod.WEB,
            text_version=request.POST.get("text_version") or None,
            ip=client_ip(request),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Thank you: your consent is recorded."))
    return redirect("accounts:account")


def _demo_only() -> None:
    # The outbox holds live sign-in codes: it exists only in demo mode.
    if not settings.DEMO_MODE:
        raise Http404


def _outbox_messages(request: HttpRequest) -> list[OutboxMessage]:
    wanted = request.GET.get("phone")
    if not wanted:
        return outbox_recent(limit=OUTBOX_LIMIT)
    try:
        digest = phone_hash(normalise_mainland_mobile(wanted))
    except InvalidPhone:
        return []
    return [message for message in outbox_recent(limit=OUTBOX_LIMIT) if message.phone_hash == digest]


@require_GET
def demo_outbox(request: HttpRequest) -> HttpResponse:
    _demo_only()
    return render(request, "accounts/outbox.html", {"outbox": _outbox_messages(request)})


@require_GET
def demo_outbox_json(request: HttpRequest) -> JsonResponse:
    _demo_only()
    rows = [
        {
            "phone": message.phone_masked,
            "text": message.text,
            "purpose": message.purpose,
            "created_at": message.created_at.isoformat(),
        }
        for message in _outbox_messages(request)
    ]
    return JsonResponse(rows, safe=False, json_dumps_params={"ensure_ascii": False})
