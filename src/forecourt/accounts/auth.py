"""API authentication: `Authorization: Bearer <token>` or the page session."""

from typing import Any

from django.http import HttpRequest


class BearerOrSession:
    """Ninja auth callable; the accounts service validates the token (stub until tokens land)."""

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


api_auth = BearerOrSession()
