"""Whole-page caching for anonymous visitors of pages that hold nothing personal.

A page is rendered once per path, query and language with a placeholder where the CSRF token goes;
each visitor then gets the cached bytes with their own token spliced in, so forms keep working.
Only visitors with no session and no pending messages are served from the cache: anything that can
differ per person (the signed-in nav, flash messages) never comes from it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.translation import get_language

CSRF_PLACEHOLDER = "__forecourt_csrf_placeholder__"
_PLACEHOLDER_BYTES = CSRF_PLACEHOLDER.encode()
_REQUEST_FLAG = "_forecourt_render_csrf_placeholder"
# Per process: a hit costs a dict lookup, not a cache round trip. Entries are small and few.
_pages: dict[tuple[Any, ...], tuple[float, bytes, str]] = {}
_MAX_ENTRIES = 2_000


def _cacheable_request(request: HttpRequest) -> bool:
    return (
        request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def anonymous_page_cache(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Cache a page view's 200 responses for PAGE_CACHE_SECONDS for visitors without a session."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        seconds = settings.PAGE_CACHE_SECONDS
        if seconds <= 0 or not _cacheable_request(request):
            return view(request, *args, **kwargs)
        key = (
            view.__module__,
            view.__qualname__,
            request.get_full_path(),
            get_language(),
            settings.DEMO_MODE,
        )
        entry = _pages.get(key)
        if entry is None or entry[0] < time.monotonic():
            setattr(request, _REQUEST_FLAG, True)
            response = view(request, *args, **kwargs)
            setattr(request, _REQUEST_FLAG, False)
            if response.streaming:
                return response
            if response.status_code != 200 or response.cookies:
                return _with_token(request, response.content, response["Content-Type"], response)
            if len(_pages) >= _MAX_ENTRIES:
                _pages.clear()
            entry = (time.monotonic() + seconds, response.content, response["Content-Type"])
            _pages[key] = entry
        return _with_token(request, entry[1], entry[2])

    return wrapped


def _with_token(
    request: HttpRequest, content: bytes, content_type: str, response: HttpResponse | None = None
) -> HttpResponse:
    if _PLACEHOLDER_BYTES in content:
        content = content.replace(_PLACEHOLDER_BYTES, get_token(request).encode())
    if response is None:
        response = HttpResponse(content, content_type=content_type)
    else:
        response.content = content
    response["Vary"] = "Cookie, Accept-Language"
    return response


def page_cache_clear() -> None:
    _pages.clear()


def csrf_placeholder(request: HttpRequest) -> dict[str, str]:
    """Context processor: while a cached page is rendered, the CSRF token is a placeholder."""
    return {"csrf_token": CSRF_PLACEHOLDER} if getattr(request, _REQUEST_FLAG, False) else {}
