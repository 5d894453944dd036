"""What every page's layout needs: the demo flag, a few URLs, the main navigation and the workspace's."""

from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import pgettext

from forecourt.accounts.models import Role
from forecourt.leads.access import is_lead_staff

LAYOUT_URL_NAMES = (
    "web:home",
    "set_language",
    "appointments:book-test-drive",
    "dealers:finder",
    "catalog:compare",
    "appointments:mine",
    "orders:mine",
    "accounts:account",
    "accounts:sign-in",
    "leads:workspace-inbox",
    "appointments:workspace-day",
    "appointments:workspace-check-in",
    "leads:workspace-kpi",
    "orders:workspace-list",
    "offers:campaigns",
    "offers:mine",
    "offers-workspace:write-off",
    "subsidies:ops",
    "loyalty:home",
    "loyalty-workspace:lookup-page",
    "referrals:dashboard",
    "referrals-ops:home",
    "admin:index",
)

# A link is marked as the section the visitor is in when the page's view is one of these.
_MODEL_VIEWS = frozenset(
    {"web:home", "catalog:model-detail", "catalog:configure", "catalog:configuration-detail"}
)
_MY_APPOINTMENT_VIEWS = frozenset({"appointments:mine", "appointments:detail", "appointments:reschedule"})
_LEAD_INBOX_VIEWS = frozenset({"leads:workspace-inbox", "leads:workspace-new", "leads:workspace-detail"})
_WORKSPACE_DAY_VIEWS = frozenset({"appointments:workspace-day", "appointments:workspace-reschedule"})
_MY_ORDER_VIEWS = frozenset(
    {"orders:mine", "orders:detail", "orders:change", "orders:cancel", "orders:place", "orders:pay"}
)
_WORKSPACE_ORDER_VIEWS = frozenset({"orders:workspace-list", "orders:workspace-detail"})
_OFFER_VIEWS = frozenset({"offers:campaigns", "offers:campaign"})
_MY_COUPON_VIEWS = frozenset({"offers:mine", "offers:voucher"})
# The member club and the broker programme span several URL namespaces each.
_CLUB_PREFIXES = ("loyalty:", "loyalty-rewards:")
_BROKER_PREFIXES = ("referrals:", "referrals-programme:")


@dataclass(frozen=True, slots=True)
class NavLink:
    label: str
    url: str
    is_current: bool


# The layout is on every page and a page's budget is small (bench/ holds pages to half the rate of a
# bare endpoint): reverse these names once per URLconf instead of on every request.
_resolved: dict[tuple[str | None, str], dict[str, str | None]] = {}


@receiver(setting_changed)
def _forget_resolved_urls(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        _resolved.clear()


def _reverse_or_none(name: str) -> str | None:
    # The layout must render even while an app has not published a URL name yet: a missing name
    # drops its link instead of turning every page into a 500.
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def layout_urls() -> dict[str, str | None]:
    """The URLs the layout links to, by name; None for a name that is not routed."""
    key = (get_urlconf(), get_script_prefix())
    urls = _resolved.get(key)
    if urls is None:
        urls = _resolved[key] = {name: _reverse_or_none(name) for name in LAYOUT_URL_NAMES}
    return urls


def _view_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.view_name or "") if match else ""


def _links(entries: list[tuple[str, str | None, bool]]) -> list[NavLink]:
    return [NavLink(label=label, url=url, is_current=current) for label, url, current in entries if url]


def navigation(request: HttpRequest, urls: dict[str, str | None]) -> list[NavLink]:
    """The main navigation for this visitor, with the section they are in marked as current."""
    view_name = _view_name(request)
    user: Any = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)

    home = urls["web:home"]
    entries: list[tuple[str, str | None, bool]] = [
        (
            pgettext("navigation", "Models"),
            f"{home}#models" if home is not None else None,
            view_name in _MODEL_VIEWS,
        ),
        (
            pgettext("navigation", "Test drive"),
            urls["appointments:book-test-drive"],
            view_name == "appointments:book-test-drive",
        ),
        (pgettext("navigation", "Dealers"), urls["dealers:finder"], view_name.startswith("dealers:")),
        (pgettext("navigation", "Compare"), urls["catalog:compare"], view_name == "catalog:compare"),
        (pgettext("navigation", "Offers"), urls["offers:campaigns"], view_name in _OFFER_VIEWS),
    ]
    if signed_in:
        if user.is_consumer:
            entries.append(
                (
                    pgettext("navigation", "My appointments"),
                    urls["appointments:mine"],
                    view_name in _MY_APPOINTMENT_VIEWS,
                )
            )
            entries.append(
                (pgettext("navigation", "My orders"), urls["orders:mine"], view_name in _MY_ORDER_VIEWS)
            )
            entries.append(
                (pgettext("navigation", "My coupons"), urls["offers:mine"], view_name in _MY_COUPON_VIEWS)
            )
            entries.append(
                (pgettext("navigation", "Club"), urls["loyalty:home"], view_name.startswith(_CLUB_PREFIXES))
            )
        if user.is_consumer or user.role == Role.BROKER:
            # Owners become brokers from here; professional brokers work here.
            entries.append(
                (
                    pgettext("navigation", "Refer & earn")
                    if user.is_consumer
                    else pgettext("navigation", "Broker centre"),
                    urls["referrals:dashboard"],
                    view_name.startswith(_BROKER_PREFIXES),
                )
            )
        if user.role == Role.PARTNER:
            # Partner merchants' counter staff write off their service vouchers.
            entries.append(
                (
                    pgettext("navigation", "Write-off"),
                    urls["offers-workspace:write-off"],
                    view_name.startswith("offers-workspace:"),
                )
            )
        entries.append(
            (pgettext("navigation", "Account"), urls["accounts:account"], view_name == "accounts:account")
        )
        if user.is_staff or user.role == Role.OPS:
            entries.append((pgettext("navigation", "Ops console"), urls["admin:index"], False))
            entries.append(
                (
                    pgettext("navigation", "Subsidy review"),
                    urls["subsidies:ops"],
                    view_name.startswith("subsidies:ops"),
                )
            )
            entries.append(
                (
                    pgettext("navigation", "Broker review"),
                    urls["referrals-ops:home"],
                    view_name.startswith("referrals-ops:"),
                )
            )
    else:
        sign_in = urls["accounts:sign-in"]
        if sign_in is not None and view_name != "accounts:sign-in":
            # Bring the visitor back to the page they were on once they have signed in.
            sign_in = f"{sign_in}?{urlencode({'next': request.get_full_path()})}"
        entries.append((pgettext("navigation", "Sign in"), sign_in, view_name == "accounts:sign-in"))
    return _links(entries)


def workspace_navigation(request: HttpRequest, urls: dict[str, str | None]) -> list[NavLink]:
    """The dealer workspace's links for a member of a dealer's staff; none for anyone else."""
    user: Any = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_dealer_staff:
        return []
    view_name = _view_name(request)
    # Leads are the sales side's work: a service advisor would only meet a 403 there.
    sells = is_lead_staff(user)
    entries: list[tuple[str, str | None, bool]] = [
        (
            pgettext("navigation", "Leads"),
            urls["leads:workspace-inbox"] if sells else None,
            view_name in _LEAD_INBOX_VIEWS,
        ),
        (
            pgettext("navigation", "Appointments"),
            urls["appointments:workspace-day"],
            view_name in _WORKSPACE_DAY_VIEWS,
        ),
        (
            pgettext("navigation", "Check-in"),
            urls["appointments:workspace-check-in"],
            view_name == "appointments:workspace-check-in",
        ),
        (
            pgettext("navigation", "Orders"),
            urls["orders:workspace-list"],
            view_name in _WORKSPACE_ORDER_VIEWS,
        ),
        (
            pgettext("navigation", "Write-off"),
            urls["offers-workspace:write-off"],
            view_name.startswith("offers-workspace:"),
        ),
        (
            pgettext("navigation", "Members"),
            urls["loyalty-workspace:lookup-page"],
            view_name.startswith("loyalty-workspace:"),
        ),
        (
            pgettext("navigation", "KPIs"),
            urls["leads:workspace-kpi"] if sells else None,
            view_name == "leads:workspace-kpi",
        ),
    ]
    return _links(entries)


_CURRENT = mark_safe(' aria-current="page"')


def _list_items(links: list[NavLink]) -> SafeString:
    return format_html_join(
        "",
        '<li><a href="{}"{}>{}</a></li>',
        ((link.url, _CURRENT if link.is_current else "", link.label) for link in links),
    )


class Navigation:
    """The navigation of one page, built on first use: HTMX fragments never pay for it.

    Rendered to HTML here rather than with template loops: the header and the footer both show it on
    every page, and the layout's cost is part of every page's (see bench/).
    """

    def __init__(self, request: HttpRequest, urls: dict[str, str | None]) -> None:
        self._request = request
        self._urls = urls

    @cached_property
    def links(self) -> list[NavLink]:
        return navigation(self._request, self._urls)

    @cached_property
    def header_items(self) -> SafeString:
        return _list_items(self.links)

    @cached_property
    def footer_items(self) -> SafeString:
        return format_html_join(
            "", '<li><a href="{}">{}</a></li>', ((link.url, link.label) for link in self.links)
        )

    @cached_property
    def workspace_items(self) -> SafeString:
        """The workspace bar's items: empty, and the bar left out, for anyone not on a dealer's staff."""
        return _list_items(workspace_navigation(self._request, self._urls))


def site(request: HttpRequest) -> dict[str, Any]:
    urls = layout_urls()
    return {
        "demo_mode": settings.DEMO_MODE,
        "site_language_url": urls["set_language"],
        "navigation": Navigation(request, urls),
    }
