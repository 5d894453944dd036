"""The write-off page (核销): type or scan a voucher code, see the voucher, write it off once.

For dealer staff (at their dealer) and partner merchant staff (at their merchant). The page checks a
scanned code's signature in the browser to flag a forgery at once; the server judges every code through
the same services as the API (rate limits, "not found" alike for unknown and not-theirs). The write-off
button carries an idempotency key made when the card was shown, so a double tap replays the first answer.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from forecourt.accounts.models import Role
from forecourt.core.errors import DomainError
from forecourt.core.middleware import client_ip
from forecourt.offers.access import staff_place_or_none
from forecourt.offers.api_staff import voucher_card
from forecourt.offers.qr import PAYLOAD_PATTERN, public_key_jwk
from forecourt.offers.services.redemption import (
    MAX_INPUT_LENGTH,
    redemptions_at,
    voucher_lookup,
    voucher_redeem,
)

RECENT = 30


def counter_staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Dealer or merchant staff; a partner account with no counter goes home, anyone else gets a 403."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        place = staff_place_or_none(request.user)
        if place is None:
            if getattr(request.user, "role", None) == Role.PARTNER and request.method == "GET":
                return redirect("web:home")
            raise PermissionDenied
        request.writeoff_place = place  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


def _text(request: HttpRequest) -> str:
    return (request.POST.get("code") or "")[: MAX_INPUT_LENGTH + 1]


def _result(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    # htmx swaps only 2xx answers: a refused code is still something to show.
    return render(request, template, context, status=200)


def _when(iso: str | None) -> str:
    """`2026-11-23T10:05:00+08:00` → `2026-11-23 10:05` (the card's times are Shanghai time already)."""
    return (iso or "")[:16].replace("T", " ")


def _displayed(card: dict[str, Any]) -> dict[str, Any]:
    card = dict(card)
    card["valid_text"] = f"{_when(card['valid_from'])[:10]} – {_when(card['valid_until'])}"
    if card.get("redemption"):
        card["redemption"] = {**card["redemption"], "when": _when(card["redemption"]["redeemed_at"])}
    return card


def _error_context(error: DomainError) -> dict[str, Any]:
    context: dict[str, Any] = {"error": error.message, "error_code": error.code}
    if error.code == "already_redeemed" and isinstance(error.details, dict):
        context["already"] = {**error.details, "when": _when(error.details.get("redeemed_at"))}
    return context


@never_cache
@require_GET
@counter_staff_required
def write_off(request: HttpRequest) -> HttpResponse:
    place = request.writeoff_place  # type: ignore[attr-defined]
    return render(
        request,
        "offers/workspace/write_off.html",
        {
            "place": place,
            "verification_key": public_key_jwk(),
            "payload_pattern": PAYLOAD_PATTERN.pattern,
            "recent": redemptions_at(place=place, limit=RECENT),
        },
    )


@never_cache
@require_POST
@counter_staff_required
def lookup(request: HttpRequest) -> HttpResponse:
    """The voucher card for a typed or scanned code, with a write-off button keyed for this showing."""
    text = _text(request)
    try:
        voucher = voucher_lookup(staff=request.user, text=text, ip=client_ip(request))  # type: ignore[arg-type]
    except DomainError as error:
        return _result(request, "offers/workspace/_result.html", _error_context(error))
    card = voucher_card(voucher)
    return _result(
        request,
        "offers/workspace/_card.html",
        {"card": _displayed(card), "text": text, "idempotency_key": secrets.token_urlsafe(18)},
    )


@never_cache
@require_POST
@counter_staff_required
def redeem(request: HttpRequest) -> HttpResponse:
    text = _text(request)
    key = (request.POST.get("idempotency_key") or "")[:128]
    if not key:
        key = secrets.token_urlsafe(18)
    try:
        redemption = voucher_redeem(
            staff=request.user,  # type: ignore[arg-type]
            text=text,
            idempotency_key=key,
            ip=client_ip(request),
        )
    except DomainError as error:
        return _result(request, "offers/workspace/_result.html", _error_context(error))
    return _result(
        request,
        "offers/workspace/_result.html",
        {"redeemed": redemption, "card": _displayed(voucher_card(redemption.voucher))},
    )
