"""API authentication: `Authorization: Bearer <token>`, or else the page session (with its CSRF check).

- `api_auth`: the endpoint needs a signed-in person; without one the API answers 401.
- `api_auth_optional`: the endpoint works signed in or out; `request.auth` is the user or
  `ANONYMOUS` (test with `request.auth.is_authenticated`). A bad bearer token is still a 401.
- `dealer_staff_required`: a page decorator for the dealer workspace: signed-in dealer staff at a dealer.

Session requests with an unsafe method must carry Django's CSRF token (the `X-CSRFToken` header the
layout gives htmx, or a form field): a cookie alone must not be able to change anything. Token
requests need no CSRF token, since a browser never adds that header by itself.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja.security.base import AuthBase
from ninja.utils import check_csrf

from forecourt.accounts.errors import AccountsErrorCode
from forecourt.accounts.models import Role, User
from forecourt.accounts.services import api_token_authenticate
from forecourt.core.errors import CoreErrorCode, DomainError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# The marker `api_auth_optional` gives for a visitor who is not signed in (truthy, so Ninja accepts it).
ANONYMOUS = AnonymousUser()


class BearerOrSession(AuthBase):
    """Ninja auth callable: a bearer token if the request has one, else the session user."""

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __init__(self, *, required: bool = True) -> None:
        self.required = required
        super().__init__()

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization", "")
        if header:
            return self._from_bearer(request, header)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._enforce_csrf(request)
            return user
        return None if self.required else ANONYMOUS

    def _from_bearer(self, request: HttpRequest, header: str) -> Any:
        scheme, _space, raw = header.strip().partition(" ")
        token = api_token_authenticate(raw=raw.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            raise DomainError(
                AccountsErrorCode.INVALID_TOKEN,
                _("The access token is not valid: it is unknown, expired or revoked. Sign in again."),
                status=401,
            )
        # Downstream code (and the revoke endpoint) can see who and which token this is.
        request.user = token.user
        request.api_token = token  # type: ignore[attr-defined]
        return token.user

    def _enforce_csrf(self, request: HttpRequest) -> None:
        if request.method in SAFE_METHODS or getattr(request, "_ninja_csrf_exempt", False):
            return
        if check_csrf(request) is not None:
            raise DomainError(
                AccountsErrorCode.CSRF_FAILED,
                _(
                    "The security token of this page is missing or out of date. "
                    "Reload the page and try again."
                ),
                status=403,
            )


api_auth = BearerOrSession()
api_auth_optional = BearerOrSession(required=False)


def is_ops(user: Any) -> bool:
    """OEM operations (or a superuser): the one test every app's ops-only pages and services use."""
    return bool(getattr(user, "is_authenticated", False)) and (
        getattr(user, "role", None) == Role.OPS or bool(getattr(user, "is_superuser", False))
    )


def request_user(request: HttpRequest) -> User:
    """The person an `api_auth` endpoint serves (Ninja has put them on `request.auth`)."""
    user = getattr(request, "auth", None)
    if not isinstance(user, User):
        raise DomainError(CoreErrorCode.NOT_AUTHENTICATED, _("Sign in first."), status=401)
    return user


def dealer_staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in dealer staff at a dealer; anyone else signed in gets a 403, visitors the sign-in page."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not getattr(user, "is_dealer_staff", False) or getattr(user, "dealer_id", None) is None:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
