"""The member club pages under /club/ (车享汇): points, every entry in words, tier, card, daily check-in.

For members only (consumers and brokers): staff and partners signed in get a 403, visitors the sign-in page.
Nothing here stores a balance: every number is derived from the ledger when the page is drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from forecourt.core import clock
from forecourt.core.errors import DomainError
from forecourt.core.qrcodes import qr_svg
from forecourt.loyalty.card import CARD_QR_REFRESH_SECONDS, card_number_display, card_payload
from forecourt.loyalty.member_presenters import entry_detail, entry_reason_text, member_summary
from forecourt.loyalty.models import EarnSource, Member, PointsEntry
from forecourt.loyalty.selectors import (
    earn_rule_active,
    member_entries,
    member_is_eligible,
    member_tier_progress,
    tier_table,
)
from forecourt.loyalty.services import daily_check_in, member_for
from forecourt.loyalty.services.earning import rule_points

RECENT_ENTRIES = 5
PAGE_SIZE = 30


def member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in members only; the member row is made on the first visit (every customer is a member)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not member_is_eligible(request.user):
            raise PermissionDenied
        request.member = member_for(request.user)  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


def _member(request: HttpRequest) -> Member:
    member: Member = request.member  # type: ignore[attr-defined]
    return member


def entry_rows(entries: Any) -> list[dict[str, Any]]:
    """Ledger entries as the pages list them: the reason in words, the detail line, pending or not."""
    moment = clock.now()
    return [
        {
            "entry": entry,
            "reason": entry_reason_text(entry),
            "detail": entry_detail(entry),
            "pending_until": entry.available_at
            if entry.points > 0 and entry.available_at and entry.available_at > moment
            else None,
        }
        for entry in entries
    ]


def _check_in_points() -> int:
    rule = earn_rule_active(EarnSource.DAILY_CHECK_IN)
    return rule_points(rule) if rule is not None else 0


@never_cache
@require_GET
@member_required
def home(request: HttpRequest) -> HttpResponse:
    """The member's club page: balance, spendable, pending (with dates), expiring, tier, check-in."""
    member = _member(request)
    summary = member_summary(member)
    recent: list[PointsEntry] = list(member_entries(member)[:RECENT_ENTRIES])
    return render(
        request,
        "loyalty/member/home.html",
        {
            "summary": summary,
            "progress": summary.progress,
            "recent": entry_rows(recent),
            "check_in_points": _check_in_points(),
        },
    )


@never_cache
@require_GET
@member_required
def points(request: HttpRequest) -> HttpResponse:
    """Every entry of the member's ledger, newest first, each with its reason in words."""
    member = _member(request)
    page = Paginator(member_entries(member), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "loyalty/member/points.html",
        {"page": page, "rows": entry_rows(page.object_list), "summary": member_summary(member)},
    )


@never_cache
@require_POST
@member_required
def check_in(request: HttpRequest) -> HttpResponse:
    """The daily check-in button (htmx swaps the answer in; without script the page reloads)."""
    member = _member(request)
    context: dict[str, Any] = {"check_in_points": _check_in_points()}
    try:
        entry = daily_check_in(member=member)
        context.update({"checked_in": True, "earned": entry.points})
    except DomainError as error:
        context.update({"checked_in": error.code == "already_checked_in", "error": error.message})
    if request.headers.get("HX-Request"):
        response = render(request, "loyalty/member/_check_in.html", context)
        # The balance on the page changed: the page's points block listens for this.
        response["HX-Trigger"] = "points-changed"
        return response
    if "earned" in context:
        messages.success(request, _("Checked in: %(points)s points.") % {"points": context["earned"]})
    else:
        messages.info(request, context["error"])
    return redirect("loyalty:home")


@never_cache
@require_GET
@member_required
def summary_block(request: HttpRequest) -> HttpResponse:
    """The points block alone, redrawn after a check-in."""
    return render(request, "loyalty/member/_points.html", {"summary": member_summary(_member(request))})


def _card_context(member: Member) -> dict[str, Any]:
    return {
        "qr_svg": qr_svg(card_payload(member)),
        "number_display": card_number_display(member.number),
        "refresh_seconds": CARD_QR_REFRESH_SECONDS,
    }


@never_cache
@require_GET
@member_required
def card(request: HttpRequest) -> HttpResponse:
    """The e-membership card: the QR code the dealer scans, the card number, the tier."""
    member = _member(request)
    context = _card_context(member)
    context.update({"member": member, "progress": member_tier_progress(member)})
    return render(request, "loyalty/member/card.html", context)


@never_cache
@require_GET
@member_required
def card_qr(request: HttpRequest) -> HttpResponse:
    """A freshly dated QR code, fetched by the card page before the shown one expires."""
    return render(request, "loyalty/member/_card_qr.html", _card_context(_member(request)))


@never_cache
@require_GET
@member_required
def tiers(request: HttpRequest) -> HttpResponse:
    """Every tier with the points it needs and its benefits; the member's own highlighted."""
    return render(
        request,
        "loyalty/member/tiers.html",
        {"tiers": tier_table(), "progress": member_tier_progress(_member(request))},
    )
