"""What every page's layout needs: the demo flag and the main navigation."""

from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise, SimpleLazyObject
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True, slots=True)
class NavLink:
    label: str | Promise
    url: str
    is_current: bool


# Every page's layout resolves the same few names; reversing them on each request is a measurable
# share of a small page's cost (see bench/), and they only change with the URLconf.
_resolved: dict[tuple[str, str | None, str], str | None] = {}


@receiver(setting_changed)
def _forget_resolved_urls(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        _resolved.clear()


def _url_or_none(name: str) -> str | None:
    key = (name, get_urlconf(), get_script_prefix())
    if key in _resolved:
        return _resolved[key]
    # The layout must render even while an app has not published a URL name yet: a missing name
    # drops its link instead of turning every page into a 500.
    try:
        url: str | None = reverse(name)
    except NoReverseMatch:
        url = None
    _resolved[key] = url
    return url


def _current_names(request: HttpRequest) -> tuple[str, str]:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "", ""
    return match.namespace or "", match.view_name or ""


def navigation(request: HttpRequest) -> list[NavLink]:
    """The main navigation for this visitor, with the section they are in marked as current."""
    namespace, view_name = _current_names(request)
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    entries: list[tuple[Any, str | None, bool]] = []

    home_url = _url_or_none("web:home")
    entries.append(
        (
            pgettext_lazy("navigation", "Models"),
            f"{home_url}#models" if home_url is not None else None,
            view_name in ("web:home", "catalog:model-detail", "catalog:configure"),
        )
    )
    entries.append(
        (pgettext_lazy("navigation", "Dealers"), _url_or_none("dealers:finder"), namespace == "dealers")
    )
    entries.append(
        (
            pgettext_lazy("navigation", "Compare"),
            _url_or_none("catalog:compare"),
            view_name == "catalog:compare",
        )
    )
    if signed_in:
        entries.append(
            (
                pgettext_lazy("navigation", "Account"),
                _url_or_none("accounts:account"),
                view_name == "accounts:account",
            )
        )
    else:
        sign_in_url = _url_or_none("accounts:sign-in")
        if sign_in_url is not None and view_name != "accounts:sign-in":
            # Bring the visitor back to the page they were on once they have signed in.
            sign_in_url = f"{sign_in_url}?{urlencode({'next': request.get_full_path()})}"
        entries.append((pgettext_lazy("navigation", "Sign in"), sign_in_url, view_name == "accounts:sign-in"))
    if signed_in and user is not None and user.is_staff:
        entries.append((pgettext_lazy("navigation", "Ops console"), _url_or_none("admin:index"), False))
    return [NavLink(label=label, url=url, is_current=current) for label, url, current in entries if url]


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "demo_mode": settings.DEMO_MODE,
        "site_home_url": _url_or_none("web:home"),
        "site_language_url": _url_or_none("set_language"),
        # Lazy, so templates that never show the navigation (HTMX fragments) never build it, and
        # built once when the header and the footer both show it.
        "nav_links": SimpleLazyObject(partial(navigation, request)),
    }
