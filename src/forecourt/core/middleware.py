"""Request-wide concerns: the client address for the audit trail and rate limits, the device id for
fraud rules, and a NUL guard."""

import contextvars
import json
import re
import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse, QueryDict
from django.utils.translation import gettext

from forecourt.core.errors import CoreErrorCode

_client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)
_device: contextvars.ContextVar[str | None] = contextvars.ContextVar("device", default=None)

# A random, first-party id per browser: lets fraud rules tell one phone's many "friends" apart from real
# ones (a self-referral from the broker's own device, a cluster of sign-ups from one device). It holds
# nothing about the person and is not shared with anyone.
DEVICE_COOKIE = "fc_dev"
DEVICE_COOKIE_MAX_AGE = 2 * 365 * 24 * 3600
_DEVICE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,40}$")


def client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: trusting X-Forwarded-For needs a known proxy, configured at deployment.
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"


def current_ip() -> str | None:
    return _client_ip.get()


def current_device() -> str | None:
    """The browser's device id during a request (set by `RequestContextMiddleware`); None outside one."""
    return _device.get()


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        sent = request.COOKIES.get(DEVICE_COOKIE, "")
        device = sent if _DEVICE_PATTERN.match(sent) else secrets.token_urlsafe(16)
        ip_token = _client_ip.set(client_ip(request))
        device_token = _device.set(device)
        try:
            response = self.get_response(request)
        finally:
            _client_ip.reset(ip_token)
            _device.reset(device_token)
        if device != sent:
            response.set_cookie(
                DEVICE_COOKIE,
                device,
                max_age=DEVICE_COOKIE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response


# PostgreSQL cannot store NUL in text, and psycopg refuses to send it: a NUL that reached a query would be
# a 500. No field of this product accepts one, so such a request is refused before any view sees it.
_NUL_MARKERS = (b"\x00", b"\\u0000")
_CHECKED_BODIES = ("application/json", "application/x-www-form-urlencoded")
# Payment gateways are answered in their own formats; the payments app rejects such notifications itself.
_OWN_FORMAT_PREFIXES = ("/payments/",)


def _field_with_nul(value: Any, path: str = "") -> str | None:
    """The dotted name of the first field of a parsed body whose name or value holds a NUL."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        name = f"{path}.{key}" if path else str(key)
        if "\x00" in str(key):
            return name
        found = _field_with_nul(item, name)
        if found is not None:
            return found
    return None


def _nul_found(request: HttpRequest) -> tuple[bool, str | None]:
    """(whether the request carries a NUL, the body field that does if one can be named)."""
    if "\x00" in request.path_info or "%00" in request.META.get("QUERY_STRING", "").lower():
        return True, None
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type not in _CHECKED_BODIES:
        return False, None
    body = request.body
    if not any(marker in body for marker in _NUL_MARKERS):
        return False, None
    try:
        if content_type == "application/json":
            # strict=False: a raw control character inside a string is still a string to name.
            parsed: Any = json.loads(body, strict=False)
        else:
            form = QueryDict(body, encoding=request.encoding)
            parsed = {key: "".join(form.getlist(key)) for key in form}
    except ValueError:
        return True, None
    return True, _field_with_nul(parsed)


class NulCharacterGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        found, field = (False, None)
        if not request.path_info.startswith(_OWN_FORMAT_PREFIXES):
            found, field = _nul_found(request)
        if found:
            message = gettext("The request contains a NUL character, which no field accepts.")
            if request.path_info.startswith("/api/"):
                # Malformed input, as the API answers it everywhere else (naming the field when it can).
                details = {"field": field} if field else None
                return JsonResponse(
                    {"code": CoreErrorCode.INVALID, "message": message, "details": details}, status=422
                )
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
