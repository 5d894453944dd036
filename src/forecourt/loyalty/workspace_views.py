"""The dealer's member page, mounted at /workspace/members/: scan the member card (or type its number) and
see who the member is — masked name and phone, tier, benefits — to greet them and honour their tier.

For dealer staff only. The server judges every code (signature, age, rate limits); the page only checks that
a scanned QR code looks like a member card. Each lookup is audited.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from forecourt.accounts.auth import dealer_staff_required
from forecourt.core.errors import DomainError
from forecourt.core.middleware import client_ip
from forecourt.loyalty.card import MAX_INPUT_LENGTH, PAYLOAD_PATTERN, card_number_display
from forecourt.loyalty.member_presenters import staff_card_out
from forecourt.loyalty.services import member_card_lookup


@never_cache
@require_GET
@dealer_staff_required
def lookup_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "loyalty/workspace/members.html",
        {"payload_pattern": PAYLOAD_PATTERN.pattern, "dealer": getattr(request.user, "dealer", None)},
    )


@never_cache
@require_POST
@dealer_staff_required
def lookup(request: HttpRequest) -> HttpResponse:
    """The member card for a scanned code or typed card number (a fragment for htmx, else the page)."""
    text = (request.POST.get("code") or "")[: MAX_INPUT_LENGTH + 1]
    context: dict[str, Any] = {
        "payload_pattern": PAYLOAD_PATTERN.pattern,
        "dealer": getattr(request.user, "dealer", None),
    }
    status = 200
    try:
        member = member_card_lookup(staff=request.user, text=text, ip=client_ip(request))
    except DomainError as error:
        status = error.status
        context.update({"error": error.message, "error_code": error.code})
    else:
        card = staff_card_out(member)
        card["number_display"] = card_number_display(member.number)
        context["card"] = card
    if request.headers.get("HX-Request"):
        # htmx swaps only 2xx answers: a refused code is still something to show.
        return render(request, "loyalty/workspace/_member.html", context)
    return render(request, "loyalty/workspace/members.html", context, status=status)
